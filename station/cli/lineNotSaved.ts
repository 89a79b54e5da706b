/**
 * A data folder named for a line that was never saved there. Named by --data-dir or by
 * LINE_STATION_DATA alike (a systemd unit sets the variable), it must not run the DEMO in the
 * line's place: the workstation would seem to run the real line.
 */
import { StationStartError } from '../api/stationFactory.js';
import { savedLinePath } from '../production/savedLine.js';
import { DATA_DIR_ENV } from './dataDir.js';

export const LINE_NOT_SAVED = 'STATION_LINE_NOT_SAVED';

/**
 * The desktop window's refusal of a folder named by LINE_STATION_DATA with no line saved. Its
 * operator may have no terminal, and the packaged app no `station` command: the text names no
 * command line.
 */
export class LineNotSavedError extends StationStartError {
  constructor(dataDir: string) {
    super(
      LINE_NOT_SAVED,
      `No line is saved in ${dataDir}, the data folder this computer's ${DATA_DIR_ENV} setting names (there is no ${savedLinePath(dataDir)}), so Line Station did not start. Save the line into that folder with this station's setup, or, to open the DEMO line instead, remove the ${DATA_DIR_ENV} setting and open Line Station again.`,
    );
    this.name = 'LineNotSavedError';
  }
}

/** Why the folder runs nothing, and the two ways on: save a line there, or ask for the DEMO. */
export function lineNotSavedText(dataDir: string, from: 'flag' | 'env'): string {
  const named = from === 'env' ? `${DATA_DIR_ENV}=${dataDir}` : `--data-dir ${dataDir}`;
  // Leaving out --data-dir is no way to the DEMO while the variable names a folder too: that
  // folder is refused the same way unless it holds a line.
  const demo =
    from === 'env' || process.env[DATA_DIR_ENV]
      ? `run the DEMO line explicitly with \`station start --demo\``
      : 'leave out --data-dir for the DEMO line';
  return `no line is saved in ${dataDir} (the data folder given by ${named}; no ${savedLinePath(dataDir)}): save one there with \`station line save --data-dir ${dataDir}\`, or ${demo}.`;
}
