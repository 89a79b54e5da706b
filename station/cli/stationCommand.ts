/**
 * The station commands a text tells a supervisor to run next, written here once. Each names the
 * data folder it is about when that folder is not the default one: pasted without it, the
 * command reads ~/.line-station, an empty or other store that answers "nothing" instead of an
 * error, on a station set up with `--data-dir` or LINE_STATION_DATA.
 */
import { isDefaultDataDir } from './dataDir.js';

/** `text` as one shell word, so a command pastes as it is: quoted when it holds a space or so. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * `--data-dir <folder>`, quoted for a shell, for a station whose data folder is not the default
 * one; undefined for the default folder, and when the station keeps none (the DEMO line).
 */
export function dataDirFlag(dataDir: string | undefined): string | undefined {
  if (dataDir === undefined || isDefaultDataDir(dataDir)) return undefined;
  return `--data-dir ${shellWord(dataDir)}`;
}

/**
 * `station <command>` as a supervisor types it for the station whose data folder is `dataDir`:
 * `stationCommand('queue list --status conflict', dir)`. `command` is taken as written, so a
 * file name in it is quoted by the caller (shellWord) and a placeholder such as NAME stays.
 */
export function stationCommand(command: string, dataDir: string | undefined): string {
  const flag = dataDirFlag(dataDir);
  return flag === undefined ? `station ${command}` : `station ${command} ${flag}`;
}
