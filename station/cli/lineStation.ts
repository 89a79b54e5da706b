import type { StationFactory } from '../api/stationFactory.js';
import { servingLineStation } from '../production/servingLineStation.js';
import { lockedLineStation } from '../production/lockedLineStation.js';
import { checkLineSetup, openProductionStation } from '../production/productionStation.js';
import { readSavedLine, savedLineSelection, type SavedLine } from '../production/savedLine.js';
import { loggedToFile, logStartRefusal } from '../production/stationLogFile.js';
import type { LineSelection } from './lineOptions.js';
import { stationPaths } from './dataDir.js';
import { readPassphrase } from './passphrase.js';
import { recordingPassphraseRefusal } from './passphraseRefusal.js';
import { supervisorActor } from './supervisorName.js';

export interface LineStart {
  /**
   * Start locked: ask for no passphrase here; a supervisor unlocks the line from the UI at this
   * workstation (a station started at boot, with no one at its terminal).
   */
  locked?: boolean;
  /**
   * The command that starts the line, as typed after `station` (`serve`, `start`): a wrong CA
   * passphrase typed at it is recorded under that name (`ca.passphrase-refused`).
   */
  command?: 'serve' | 'start';
}

/** How to start without a passphrase at hand, for the text that says one is missing. */
const LOCKED_HINT = 'start with --locked and unlock the line from its UI at this workstation';

/**
 * The factory of a real line, for `serve` and `start`. Checks what is not secret first
 * (profile, ports, CA), so a mistyped profiles file is reported before the supervisor types the
 * CA passphrase, then asks for the passphrase, unless the line starts locked. Its log is also
 * kept in the data folder (stationLogFile.ts), with why it did not start when these checks stop it.
 */
export async function lineStation(
  selection: LineSelection,
  mode: 'auto' | 'manual',
  start: LineStart = {},
): Promise<StationFactory> {
  try {
    const { dataDir } = selection;
    if (start.locked) {
      const locked = await lockedLineStation(selection, mode);
      return loggedToFile(servingLineStation(locked, dataDir, true), dataDir);
    }
    await checkLineSetup(selection);
    const passphrase = await readPassphrase('CA passphrase: ', { missingHint: LOCKED_HINT });
    // A guess typed here goes into the trail as one typed at any other command does; a locked
    // line's form records its own (`line.unlock-refused`).
    const asker = { command: start.command ?? 'serve', actor: supervisorActor(undefined) };
    return loggedToFile(
      servingLineStation(
        (context) =>
          recordingPassphraseRefusal(stationPaths(dataDir).database, asker, () =>
            openProductionStation({ ...selection, mode, passphrase, log: context.log }),
          ),
        dataDir,
        false,
      ),
      dataDir,
    );
  } catch (err) {
    logStartRefusal(selection.dataDir, err);
    throw err;
  }
}

/** The factory of a saved line (`station line save`); `mode` overrides the saved one. */
export function savedLineStation(
  dataDir: string,
  saved: SavedLine,
  mode: 'auto' | 'manual' = saved.mode,
  start: LineStart = {},
): Promise<StationFactory> {
  return lineStation(savedLineSelection(dataDir, saved), mode, start);
}

/**
 * The line saved in `dataDir`, or undefined; one that cannot be used is refused (readSavedLine)
 * and the refusal kept in the folder's log, as every other reason a start stops.
 */
export function readSavedLineToStart(dataDir: string): SavedLine | undefined {
  try {
    return readSavedLine(dataDir);
  } catch (err) {
    logStartRefusal(dataDir, err);
    throw err;
  }
}

/** What a headless run of a real line in `dataDir` is told when it does not start. */
export function refusalsLoggedIn(dataDir: string): (err: unknown) => void {
  return (err) => logStartRefusal(dataDir, err);
}
