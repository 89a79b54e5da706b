/**
 * What the desktop window's core runs: the line saved for this station (`station line save`),
 * started locked, since the window has no terminal to ask for the CA passphrase in; a supervisor
 * types it into the window. With no saved line, or with `station start --demo`, the DEMO line.
 */
import { demoStationFactory, type StationFactory } from '../api/stationFactory.js';
import { resolveDataDir } from '../cli/dataDir.js';
import { lockedLineStation } from './lockedLineStation.js';
import { readSavedLine, savedLineSelection } from './savedLine.js';
import { servingLineStation } from './servingLineStation.js';
import { loggedToFile } from './stationLogFile.js';

/** Set (to 1) by `station start --demo` for the window it opens: the DEMO even with a saved line. */
export const DEMO_ENV = 'LINE_STATION_DEMO';

export const desktopStationFactory: StationFactory = async (context) => {
  const dataDir = resolveDataDir();
  const saved = process.env[DEMO_ENV] === '1' ? undefined : readSavedLine(dataDir);
  if (!saved) return demoStationFactory(context);
  const line: StationFactory = async (logged) => {
    const open = await lockedLineStation(savedLineSelection(dataDir, saved), saved.mode);
    return open(logged);
  };
  // The window has no terminal: the data folder's log is where the line's lines are kept, a
  // refused setup (profiles file, CA) included. Recorded as serving the folder like a line
  // `serve` or `start` runs, so the sync commands see it: it is started locked, as those are
  // with --locked.
  return loggedToFile(servingLineStation(line, dataDir, true), dataDir)(context);
};
