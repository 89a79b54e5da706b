import type { Migration } from './index.js';

/** The owner token of the runs open when owners began to be recorded (see below). */
export const OPENED_BEFORE_OWNERS = 'opened-before-owners';

/**
 * Who runs each run, and what each certificate was issued for.
 *
 * A run is opened `running` before its first step; a station that crashes (or loses power) never
 * ends it, and the certificate it issued stays `issued` for good. The next start closes such runs
 * (station/store/interruptedRuns.ts), but only those whose process is known to be gone: two
 * stations may share a data folder, and closing the other's live run would fail its device. So a
 * run names its process (host, pid, and a token per process, since a station restarted after a
 * reboot often gets its old pid back), and a certificate names its run, which the run row only
 * learns when the run ends.
 *
 * The runs still `running` when this migration runs are marked as opened before owners were
 * recorded, and the next start closes them. A run without an owner opened later came from an
 * older station version still running beside this one during an upgrade: it is live, and left
 * open until it is a day old. The boot id tells a run of this host from before a restart even
 * when the pid it names was given to another process since.
 */
export const migration008RunOwners: Migration = {
  version: 8,
  name: 'run_owners',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN owner_host TEXT;
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      ALTER TABLE runs ADD COLUMN owner_token TEXT;
      -- The kernel's boot id where there is one (Linux), else NULL.
      ALTER TABLE runs ADD COLUMN owner_boot TEXT;
      UPDATE runs SET owner_token = '${OPENED_BEFORE_OWNERS}' WHERE state = 'running';
      -- What the station issued the certificate for, e.g. 'run:42'; NULL for a certificate
      -- issued by hand (station ca issue).
      ALTER TABLE certificates ADD COLUMN issued_for TEXT;
      -- Both are read at every start; both stay small (open runs, unsettled certificates).
      CREATE INDEX runs_open ON runs (id) WHERE state = 'running';
      CREATE INDEX certificates_unsettled_by_issued_for ON certificates (issued_for)
        WHERE status = 'issued' AND issued_for IS NOT NULL;
    `);
  },
};
