/**
 * What the desktop window's core runs: the line saved for this station (`station line save`),
 * started locked, since the window has no terminal to ask for the CA passphrase in; a supervisor
 * types it into the window. The DEMO line when `station start` says so (--demo, or no line saved
 * in its folder), or with no saved line in the default folder. A folder named by
 * LINE_STATION_DATA with no line saved is refused (STATION_LINE_NOT_SAVED), as `station start`
 * refuses it: a workstation set up for its real line must not open the DEMO in its place.
 */
import { demoStationFactory, type StationFactory } from '../api/stationFactory.js';
import { DATA_DIR_ENV, resolveDataDir } from '../cli/dataDir.js';
import { LineNotSavedError } from '../cli/lineNotSaved.js';
import { lockedLineStation } from './lockedLineStation.js';
import { readSavedLine, savedLineSelection } from './savedLine.js';
import { servingLineStation } from './servingLineStation.js';
import { loggedToFile } from './stationLogFile.js';

/** Set (to 1) by `station start --demo` for the window it opens: the DEMO even with a saved line. */
export const DEMO_ENV = 'LINE_STATION_DEMO';

export const desktopStationFactory: StationFactory = async (context) => {
  const dataDir = resolveDataDir();
  const demo = process.env[DEMO_ENV] === '1';
  // A line.json that cannot be read is refused (STATION_LINE_INVALID), never the DEMO.
  const saved = demo ? undefined : readSavedLine(dataDir);
  if (!saved) {
    if (!demo && process.env[DATA_DIR_ENV]) throw new LineNotSavedError(dataDir);
    return demoStationFactory(context);
  }
  const line: StationFactory = async (logged) => {
    const open = await lockedLineStation(savedLineSelection(dataDir, saved), saved.mode);
    return open(logged);
  };
  // The window has no terminal: the data folder's log is where the line's lines are kept, a
  // refused setup (profiles file, CA) included. Recorded as serving the folder like a line
  // `serve` or `start` runs, so the sync commands see it: it is started locked, as those are
  // with --locked. It takes no claim of the folder (serving.lock): a `station start` that opened
  // the window holds that claim while the window runs, and this core, another process, would
  // find it taken; a second line on the folder is said in the log instead (markServing).
  return loggedToFile(servingLineStation(line, dataDir, true), dataDir)(context);
};
