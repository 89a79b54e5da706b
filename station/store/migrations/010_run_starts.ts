import type { Migration } from './index.js';

/**
 * Who started each run: `operator` (a Provision press, and every run of a manual line) or `auto`
 * (auto mode, as a device appeared). An operator's start ends a device's streak of failures,
 * and the count a restarted station reads back from the store must end there too, or a device
 * the operator had just given more runs is held again after one. NULL: a run from before.
 */
export const migration010RunStarts: Migration = {
  version: 10,
  name: 'run_starts',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN started_by TEXT
        CHECK (started_by IS NULL OR started_by IN ('operator', 'auto'));
    `);
  },
};
