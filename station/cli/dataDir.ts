import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from './usageError.js';

export const DATA_DIR_ENV = 'LINE_STATION_DATA';

/**
 * Where this station keeps its database and CA: `--data-dir`, else LINE_STATION_DATA, else
 * `~/.line-station`. An empty value never means the working directory (what `resolve('')`
 * gives): an empty variable counts as unset, as the other LINE_STATION_* variables do, and an
 * empty flag is a usage error.
 */
export function resolveDataDir(flag?: string): string {
  if (flag !== undefined && flag.trim() === '') {
    throw new UsageError(
      '--data-dir is empty: give a folder, or leave the flag out for $LINE_STATION_DATA or ~/.line-station',
    );
  }
  const fromEnv = process.env[DATA_DIR_ENV];
  return resolve(flag ?? (fromEnv ? fromEnv : join(homedir(), '.line-station')));
}

export function stationPaths(dataDir: string): {
  dataDir: string;
  caDir: string;
  database: string;
  /** TPM vendor CA certificates a supervisor added, beside the ones the station ships. */
  ekTrustDir: string;
} {
  return {
    dataDir,
    caDir: join(dataDir, 'ca'),
    database: join(dataDir, 'station.db'),
    ekTrustDir: join(dataDir, 'trust', 'tpm-vendors'),
  };
}
