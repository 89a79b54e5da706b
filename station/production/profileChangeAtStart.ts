import type Database from 'better-sqlite3';
import { runDpsRecord } from '../line/profileFingerprint.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { profileChangeText, recordProfileChange } from '../store/profileChanges.js';
import { asStoreError } from '../store/storeError.js';

/**
 * A line's start, told whether its profile differs from the one the last run on this station
 * recorded: the profiles file is read by path at each start, so an edit since that run (another
 * well-formed ID scope) is recorded as a `profile.changed` audit event and logged as a warning.
 * Call it before the line runs any device: a run would record the new profile first.
 */
export function noteProfileChange(
  db: Database.Database,
  profile: ProductProfile,
  log: (line: string) => void,
): void {
  const starting = { name: profile.name, ...runDpsRecord(profile) };
  const change = asStoreError('compare the profile with the last run', () =>
    recordProfileChange(db, starting, new Date()),
  );
  if (change !== undefined) log(`Warning: ${profileChangeText(change)}`);
}
