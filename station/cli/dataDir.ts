import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DATA_DIR_ENV = 'LINE_STATION_DATA';

/**
 * Where this station keeps its database and CA: `--data-dir`, else LINE_STATION_DATA, else
 * `~/.line-station`.
 */
export function resolveDataDir(flag?: string): string {
  return resolve(flag ?? process.env[DATA_DIR_ENV] ?? join(homedir(), '.line-station'));
}

export function stationPaths(dataDir: string): {
  dataDir: string;
  caDir: string;
  database: string;
} {
  return { dataDir, caDir: join(dataDir, 'ca'), database: join(dataDir, 'station.db') };
}
