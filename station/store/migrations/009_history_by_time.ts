import type { Migration } from './index.js';

/**
 * The history by time, for the questions a supervisor asks of a shift: runs by the time they
 * started (`station runs --since`, `station runs stats`) and certificates by the time they were
 * issued (`station ca list`, newest first). Without them each question read, and sorted, every
 * run or certificate the station ever made; a busy line makes tens of thousands a day.
 */
export const migration009HistoryByTime: Migration = {
  version: 9,
  name: 'history_by_time',
  up(db) {
    db.exec(`
      CREATE INDEX runs_by_started_at ON runs (started_at);
      CREATE INDEX certificates_by_issued_at ON certificates (issued_at, serial_number);
    `);
  },
};
