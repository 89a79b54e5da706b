/**
 * Refusals of the station store. Each carries a stable code, operator text saying what to do, and
 * a detail for the log. Codes never change meaning; new cases get new codes.
 */
export const storeErrorText = {
  STORE_CERTIFICATE_STATE:
    'The certificate for this device is not in the state the station expects. Set the device aside and call engineering.',
  STORE_ENROLLMENT_BUSY:
    'The earlier enrollment of this device is being sent to DPS right now. Retry in a minute.',
  STORE_DUPLICATE_ENROLLMENT:
    'Another device already holds this registration ID. Set the device aside and check the profile.',
  STORE_EARLIER_PASS_CHANGED:
    'This device was provisioned again meanwhile, maybe on another slot. Check the device and retry.',
  STORE_RUN_NOT_RUNNING:
    'This run has already ended in the station record. Retry the device; if it repeats, call engineering.',
  STORE_RECORD_INVALID:
    'The station refused to record an incomplete or unsafe result. Set the device aside and call engineering.',
  STORE_WRITE_FAILED:
    'The station could not save the result. Check disk space, then retry the device.',
} as const;

export type StoreErrorCode = keyof typeof storeErrorText;

/** An error thrown by the store: `{ code, message, detail }` like every error leaving the core. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(storeErrorText[code], options);
    this.name = 'StoreError';
  }

  toJSON(): { code: StoreErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/**
 * Runs a store write and turns whatever SQLite throws into a StoreError, so the line engine can
 * fail the run with a code instead of crashing on a raw SqliteError (disk full, I/O error…).
 */
export function asStoreError<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const detail = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    throw new StoreError('STORE_WRITE_FAILED', detail, { cause: err });
  }
}
