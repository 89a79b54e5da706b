/**
 * A data folder named for a line that was never saved there. Named by --data-dir or by
 * LINE_STATION_DATA alike (a systemd unit sets the variable), it must not run the DEMO in the
 * line's place: the workstation would seem to run the real line.
 */
import { savedLinePath } from '../production/savedLine.js';
import { DATA_DIR_ENV } from './dataDir.js';

export const LINE_NOT_SAVED = 'STATION_LINE_NOT_SAVED';

export class LineNotSavedError extends Error {
  readonly code = LINE_NOT_SAVED;
  constructor(dataDir: string, from: 'flag' | 'env') {
    super(lineNotSavedText(dataDir, from));
    this.name = 'LineNotSavedError';
  }
}

/** Why the folder runs nothing, and the two ways on: save a line there, or ask for the DEMO. */
export function lineNotSavedText(dataDir: string, from: 'flag' | 'env'): string {
  const named = from === 'env' ? `${DATA_DIR_ENV}=${dataDir}` : `--data-dir ${dataDir}`;
  const demo =
    from === 'env'
      ? `run the DEMO line explicitly with \`station start --demo\``
      : 'leave out --data-dir for the DEMO line';
  return `no line is saved in ${dataDir} (the data folder given by ${named}; no ${savedLinePath(dataDir)}): save one there with \`station line save --data-dir ${dataDir}\`, or ${demo}.`;
}
