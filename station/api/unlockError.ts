import type { CodedError } from '../line/lineTypes.js';

/** Refusals of the `unlock` command, with the text a supervisor at the UI reads. */
export const unlockErrorText = {
  STATION_NOT_LOCKED: 'The line is already unlocked.',
  STATION_UNLOCK_NOT_LOCAL:
    'The line can only be unlocked at the workstation itself (its window, or a browser on that workstation), so that the CA passphrase never crosses the network.',
  STATION_UNLOCK_BUSY: 'The station is checking a passphrase already. Wait for its answer.',
  STATION_UNLOCK_WAIT: 'Too many wrong passphrases: wait before the next try.',
} as const;

export type UnlockErrorCode = keyof typeof unlockErrorText;

/** An unlock the station refused before trying the passphrase. */
export class UnlockError extends Error {
  constructor(
    readonly code: UnlockErrorCode,
    readonly detail?: string,
    message: string = unlockErrorText[code],
  ) {
    super(message);
    this.name = 'UnlockError';
  }

  toJSON(): CodedError {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}
