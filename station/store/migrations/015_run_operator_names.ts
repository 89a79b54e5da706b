import type { Migration } from './index.js';

/**
 * The name of the operator who started a run, when the command that started it knew one:
 * `station provision` runs as a person at a rework bench (`--by NAME`, else the OS user), and
 * "by the operator" alone could not say which. A Provision press in the UI and auto mode name
 * nobody: NULL, as every run from before. A name goes only with an operator's start (`IS`: a
 * NULL starter would pass a CHECK of `=`), and stays within what `--by` takes (256 characters).
 */
export const migration015RunOperatorNames: Migration = {
  version: 15,
  name: 'run_operator_names',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN operator_name TEXT
        CHECK (operator_name IS NULL OR (started_by IS 'operator'
          AND length(operator_name) BETWEEN 1 AND 256));
    `);
  },
};
