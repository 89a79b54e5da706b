import type { Migration } from './index.js';

/**
 * The runs by state, newest first: `station runs list --state fail` walks one state's runs down
 * from the newest and stops at the limit. Without it SQLite read every run the station ever made
 * (hundreds of thousands a year) to find the few that failed, or none at all for a state no run
 * is in. The id is in the key so that the walk comes out in the list's order, with no sort.
 *
 * The run history's other reads keep the indexes they were written for (RunHistory): with no
 * statistics, SQLite rates an equality on the state as narrow, and would otherwise take this
 * index where most runs share the state. The open runs at start may read through it or through
 * `runs_open`: both hold only them.
 */
export const migration013RunsByState: Migration = {
  version: 13,
  name: 'runs_by_state',
  up(db) {
    db.exec(`CREATE INDEX runs_by_state ON runs (state, id);`);
  },
};
