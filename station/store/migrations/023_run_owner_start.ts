import type { Migration } from './index.js';

/**
 * When the process that opened a run started, in clock ticks since boot (field 22 of
 * /proc/PID/stat, station/store/runOwner.ts), beside the owner migration 008 records. A station
 * killed (SIGKILL, a crash) leaves its run `running`, and within one boot its pid may be handed
 * to an unrelated process, which the pid alone reads as the station still running it: the run
 * would stay open for good. A run whose pid now belongs to a process that started at another
 * time is cut off (station/store/interruptedRuns.ts).
 *
 * NULL where it cannot be read (no /proc: Windows), and for every run opened before: those are
 * judged as before. Added last, nullable: every insert into `runs` names its columns.
 */
export const migration023RunOwnerStart: Migration = {
  version: 23,
  name: 'run_owner_start',
  up(db) {
    db.exec(`ALTER TABLE runs ADD COLUMN owner_start TEXT;`);
  },
};
