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
  return resolve(flag ?? (fromEnv ? fromEnv : defaultDataDir()));
}

function defaultDataDir(): string {
  return join(homedir(), '.line-station');
}

/** Whether `dataDir` is ~/.line-station: what a command reads given no --data-dir nor variable. */
export function isDefaultDataDir(dataDir: string): boolean {
  return resolve(dataDir) === resolve(defaultDataDir());
}

/**
 * Where `dataDir` came from, in the words of a supervisor who may have forgotten to set the
 * variable: `LINE_STATION_DATA` when it names that folder, the default when the variable is
 * unset and the folder is ~/.line-station, else --data-dir (and what the variable holds).
 */
export function dataDirOrigin(dataDir: string): string {
  const fromEnv = process.env[DATA_DIR_ENV];
  if (fromEnv && resolve(fromEnv) === dataDir) return `from ${DATA_DIR_ENV}`;
  if (!fromEnv && dataDir === resolve(defaultDataDir())) {
    return `the default: no --data-dir, and ${DATA_DIR_ENV} is not set`;
  }
  return `given by --data-dir; ${DATA_DIR_ENV} is ${fromEnv ? fromEnv : 'not set'}`;
}

/** How every command chooses its data folder, for an error that names the one it used. */
export const DATA_DIR_RULE = `a command uses --data-dir DIR, else $${DATA_DIR_ENV}, else ~/.line-station`;

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
