import type { Migration } from './index.js';

/**
 * Which process holds the sync lease (migration 006), beyond its pid: the kernel's boot id and
 * the process's start in clock ticks since boot (see station/store/runOwner.ts). After a crash
 * or a power cut the holder's pid is often taken by an unrelated process, which a pid alone
 * reads as the holder still running: the lease would never be free again. A lease whose holder
 * was of another boot, or whose pid now belongs to a process that started at another time, is
 * free.
 *
 * A table beside sync_lease rather than columns of it: sync_lease's shape is the one any older
 * station writes, positional inserts included, so it stays as it was. One row per holder; a
 * lease without one (written by an older station) is judged by its pid alone, as before. Both
 * values may be NULL where they cannot be read (no /proc).
 */
export const migration021SyncLeaseProcess: Migration = {
  version: 21,
  name: 'sync_lease_process',
  up(db) {
    db.exec(`
      CREATE TABLE sync_lease_process (
        holder TEXT PRIMARY KEY,
        boot TEXT,
        started TEXT
      ) STRICT;
    `);
  },
};
