import type { Migration } from './index.js';

/**
 * Runs by the time they started, for `station runs --since` and `station runs stats`: a
 * supervisor asks what happened on this shift, and without it each question read every run
 * the station ever made (a busy line makes tens of thousands a day).
 */
export const migration009RunsByStart: Migration = {
  version: 9,
  name: 'runs_by_start',
  up(db) {
    db.exec(`CREATE INDEX runs_by_started_at ON runs (started_at);`);
  },
};
