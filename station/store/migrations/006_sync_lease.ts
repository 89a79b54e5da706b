import type { Migration } from './index.js';

/**
 * The sync lease: which process drains the outbox of this database. One worker per database is
 * the sync worker's rule, since a worker that starts reads every `syncing` row as left by a
 * crash; a second process (`station sync now` while the station runs) would take over the rows
 * the station is sending. At most one row; see station/sync/syncLease.ts.
 */
export const migration006SyncLease: Migration = {
  version: 6,
  name: 'sync_lease',
  up(db) {
    db.exec(`
      CREATE TABLE sync_lease (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        renewed_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
