import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StationStartError } from '../api/stationFactory.js';
import { openStationDatabase, openStationDatabaseToRead } from '../store/stationDatabase.js';
import { stationPaths } from './dataDir.js';

/**
 * Opens the station database of `dataDir` for the commands that read or fix what a line
 * recorded (`queue`, `runs`, `sync status`, `ca list`); `toRead` when the command only reads,
 * and then it creates nothing at all. They never make a station of a folder that holds none: a
 * new, empty database in a mistyped --data-dir (or in /root under sudo) would report an empty
 * outbox, as if all were synced.
 */
export function openExistingStationDatabase(
  dataDir: string,
  options: {
    toRead?: boolean;
    /**
     * Refuse a database this process cannot write (STORE_READ_ONLY) before the command does
     * anything: a command that only reads but records that it did (`queue export`) must not
     * hand the outbox over and then fail to write its audit event.
     */
    requireWritable?: boolean;
  } = {},
): Database.Database {
  const { database, caDir } = stationPaths(dataDir);
  // A station has its CA before a line ever ran (`ca init`), so either one marks the folder.
  if (!existsSync(database) && !existsSync(caDir)) {
    throw new StationStartError(
      'STATION_NOT_CONFIGURED',
      `There is no station in ${dataDir} (no database, no CA). Check --data-dir or LINE_STATION_DATA: it must name the folder the line runs with.`,
      database,
    );
  }
  if (!options.toRead) {
    return openStationDatabase(database, { requireWritable: options.requireWritable ?? false });
  }
  // A station with a CA and no database yet (no line ran) has nothing to report, and a report
  // leaves it so: an empty database in memory answers for it, no station.db is made. It says so
  // (on stderr, out of a report a script reads): a station.db lost or moved would read the same.
  if (!existsSync(database)) {
    console.error(
      `note: ${dataDir} holds a CA but no station.db: no line has run with this folder, so there is nothing to report.`,
    );
    return openStationDatabase(':memory:');
  }
  // A command that only reports opens read-only: quick on a big file (openStationDatabaseToRead).
  return openStationDatabaseToRead(database);
}
