import type { Migration } from './index.js';

/**
 * Enrollments per status, kept in a six-row table by triggers on `enrollments`.
 *
 * Every PASS and every sync round asks for the outbox counts. A GROUP BY over `enrollments`
 * reads every row the station ever recorded, and synced rows stay as history: at thousands of
 * devices an hour that is millions of rows within weeks, scanned on the station's event loop
 * each time. Reading six counters costs the same on day 300 as on day 1.
 *
 * The triggers run inside the statement that changes `enrollments`, so a refused or rolled-back
 * statement undoes its counter changes too. The counters are exact for INSERT, DELETE and
 * UPDATE, and for REPLACE conflict resolutions (INSERT OR REPLACE, UPDATE OR REPLACE) because
 * the station opens its database with recursive_triggers on (stationDatabase.ts): the row a
 * REPLACE displaces then fires the DELETE trigger. The INSERT trigger upserts, so a status
 * added by a later migration gets its row without touching this one; CHECK (n >= 0) makes a
 * lost decrement fail loudly instead of showing a negative count.
 */
export const migration004OutboxCounts: Migration = {
  version: 4,
  name: 'outbox_counts',
  up(db) {
    db.exec(`
      CREATE TABLE outbox_counts (
        status  TEXT PRIMARY KEY,
        n       INTEGER NOT NULL CHECK (n >= 0)
      ) STRICT, WITHOUT ROWID;

      -- Every status has its row (0 when none), then the rows already recorded are counted once.
      INSERT INTO outbox_counts (status, n) VALUES
        ('pending', 0), ('syncing', 0), ('synced', 0), ('failed', 0), ('conflict', 0),
        ('superseded', 0);
      INSERT INTO outbox_counts (status, n)
        -- WHERE true: SQLite's parser would otherwise read ON CONFLICT as a join's ON.
        SELECT status, count(*) FROM enrollments WHERE true GROUP BY status
        ON CONFLICT (status) DO UPDATE SET n = excluded.n;

      CREATE TRIGGER outbox_counts_after_insert AFTER INSERT ON enrollments
      BEGIN
        INSERT INTO outbox_counts (status, n) VALUES (NEW.status, 1)
          ON CONFLICT (status) DO UPDATE SET n = n + 1;
      END;

      CREATE TRIGGER outbox_counts_after_delete AFTER DELETE ON enrollments
      BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE status = OLD.status;
      END;

      -- Updates of other columns (attempts, errors, timestamps) leave the counters alone.
      CREATE TRIGGER outbox_counts_after_status_change AFTER UPDATE OF status ON enrollments
        WHEN OLD.status IS NOT NEW.status
      BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE status = OLD.status;
        INSERT INTO outbox_counts (status, n) VALUES (NEW.status, 1)
          ON CONFLICT (status) DO UPDATE SET n = n + 1;
      END;
    `);
  },
};
