import { isSqliteError, recognisedStoreCode, toStoreError } from '../store/storeError.js';
import type { CodedError } from './lineTypes.js';
import { isPartErrorCode } from './partErrorCodes.js';

/**
 * Refusals the line engine makes itself (as opposed to the wire's WIRE_ and DEVICE_ codes and
 * the CA's CSR_ and CA_ codes). Codes never change meaning; new cases get new codes.
 */
export const runErrorText = {
  RUN_MODEL_NOT_ALLOWED:
    'This device model is not part of the selected product. Check the product profile or set the device aside.',
  RUN_FIRMWARE_NOT_ALLOWED:
    'The device runs a firmware version this product does not allow. Flash an allowed version, then retry.',
  RUN_CAPABILITY_MISSING:
    'The device lacks a capability this product needs (key generation, key slot, key injection, a TPM). Check the model and profile.',
  RUN_REGISTRATION_ID_INVALID:
    'The registration ID made from this device is not valid for DPS. Check the profile template and the device serial number.',
  RUN_DUPLICATE_DEVICE:
    'This device was provisioned before and the product does not allow re-provisioning. Set it aside, or ask a supervisor.',
  RUN_REGISTRATION_ID_TAKEN:
    "Another device, with another serial number or model, was provisioned with this device's registration ID. Set this one aside and check both labels and the profile's template.",
  // Starts "Another slot": the run's message names the slot instead (runClaims.ts).
  RUN_REGISTRATION_ID_ON_ANOTHER_SLOT:
    'Another slot is provisioning a device with this registration ID: two boards with the same serial? Set this one aside and check its label.',
  RUN_IDENTITY_OF_OTHER_MODE:
    'This board holds an X.509 identity from an earlier product, and this product gives it a symmetric key or a TPM enrollment instead; the device would keep presenting the old certificate. Set it aside for engineering: it needs a factory reset.',
  RUN_GROUP_KEY_UNAVAILABLE:
    'The enrollment group key is not available on this station. A supervisor must import it before this product can run.',
  RUN_EK_CERTIFICATE_MISSING:
    "The device's TPM holds no endorsement key certificate, and this product needs one to prove the TPM is genuine. Set the device aside, or ask a supervisor.",
  RUN_EK_NOT_RSA:
    "The device's TPM offered an ECC endorsement key; DPS enrolls a TPM by its RSA endorsement key. Check that the firmware reads the RSA EK, then retry.",
  RUN_EK_NOT_L1:
    "The device's TPM offered an RSA endorsement key that is not the standard one (template L-1, at 0x81010001) the DPS device SDK uses, so the device could never register. Check that the firmware reads the EK at 0x81010001, then retry.",
  RUN_EK_ON_ANOTHER_DEVICE:
    "This TPM's endorsement key passed before on another device. A TPM belongs to one board: set the device aside and call engineering.",
  RUN_EK_ON_ANOTHER_SLOT:
    "Another slot is provisioning a device with this TPM's endorsement key: a TPM belongs to one board. Set this one aside and call engineering.",
  RUN_EK_TRUST_UNAVAILABLE:
    'This station has no TPM vendor certificates to check endorsement keys against. A supervisor must add them before this product can run.',
  RUN_VERIFY_CONFIG_MISMATCH:
    'The device did not keep the DPS settings written to it. Retry; if it repeats, set the device aside.',
  RUN_VERIFY_CHALLENGE_FAILED:
    'The device could not prove it holds its new identity key. Set the device aside.',
  RUN_DEVICE_CHANGED:
    'A different board answered than the one this run started on, so nothing was committed to it. Provision the board on this port again.',
  RUN_COMMIT_NOT_RECORDED:
    'The device committed its new identity, but the station could not record it. Set the device aside and call engineering: it must be re-provisioned before it ships.',
  RUN_COMMIT_UNCONFIRMED:
    'The device did not confirm its new identity, so the station recorded none. It may hold it anyway: provision it again before it ships.',
  RUN_CANCELLED: 'The run was cancelled. The device keeps its previous identity.',
  RUN_INTERRUPTED:
    'The station stopped during this run, so it recorded no identity for the device. Provision the device again before it ships.',
  // The number is failureStreak's REPEATED_FAILURE_LIMIT; its test keeps the two together.
  RUN_REPEATED_FAILURE:
    'This device failed 3 times in a row, so the line no longer starts it by itself. Set it aside or check it, then press Provision again.',
  // The number is noAnswerStreak's NO_ANSWER_LIMIT; its test keeps the two together.
  RUN_NO_ANSWER_REPEATED:
    'The device on this port dropped or did not answer 3 times in a row before it said who it is, so the line no longer starts it by itself. Check its cable and power, then press Provision.',
  RUN_INTERNAL: 'The station hit an unexpected error; see the log. Retry this device.',
} as const;

export type RunErrorCode = keyof typeof runErrorText;

/**
 * The abort reason of a run the station's own stop cancelled (Line.stop), as opposed to an
 * operator's cancel: the run is recorded as RUN_INTERRUPTED, which says the device must be
 * provisioned again, and a count of the device's failures after the restart skips it.
 */
export class StationStopping extends Error {
  constructor() {
    super('the station is stopping');
    this.name = 'StationStopping';
  }
}

/** A run refused or failed by the line engine: stable code, operator text, log detail. */
export class RunError extends Error {
  constructor(
    readonly code: RunErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown; message?: string },
  ) {
    super(options?.message ?? runErrorText[code], options);
    this.name = 'RunError';
  }

  toJSON(): CodedError {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/**
 * Any error as `{code, message, detail}`. The station's own coded errors (WireError, CertError,
 * RunError, LineError, the store's, the sync's, DPS's: a code from one of their tables) carry
 * operator text and pass as they are. Anything else never shows its own text to the technician:
 * what SQLite refused for a reason the store recognises becomes the store's code for it
 * (SQLITE_FULL is STORE_WRITE_FAILED, SQLITE_BUSY STORE_BUSY), any other error (a constraint or
 * an SQL error too) RUN_INTERNAL, the original text kept in `detail` for the log.
 */
export function toCodedError(err: unknown): CodedError {
  const coded = err as { code?: unknown; message?: unknown; detail?: unknown } | null;
  if (
    coded !== null &&
    typeof coded === 'object' &&
    typeof coded.code === 'string' &&
    isStationCode(coded.code) &&
    typeof coded.message === 'string'
  ) {
    return typeof coded.detail === 'string'
      ? { code: coded.code, message: coded.message, detail: coded.detail }
      : { code: coded.code, message: coded.message };
  }
  // Only what the store has advice for; SQLite refusing a constraint or a statement is a bug.
  if (isSqliteError(err) && recognisedStoreCode(err) !== undefined)
    return toStoreError(err, 'station database').toJSON();
  return { code: 'RUN_INTERNAL', message: runErrorText.RUN_INTERNAL, detail: originalText(err) };
}

function isStationCode(code: string): boolean {
  return (
    Object.hasOwn(runErrorText, code) || Object.hasOwn(lineErrorText, code) || isPartErrorCode(code)
  );
}

/** The error as its thrower wrote it, code included: what engineering looks up. */
function originalText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return `${err.name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''}: ${err.message}`;
}

/**
 * The device committed its identity but the store refused the record. Keeps the store's code
 * (what engineering needs to look up) with operator text saying what that means on the floor.
 */
export class CommitNotRecordedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CommitNotRecordedError';
  }
}

/** Refusals of a line command (provision, cancel) the operator or the API asked for. */
export const lineErrorText = {
  LINE_SLOT_UNKNOWN: 'There is no such slot on this line.',
  LINE_SLOT_BUSY: 'This slot is already provisioning a device. Wait for it, or cancel it first.',
  LINE_RUN_COMMITTING:
    'The device is already committing its new identity, so the run can no longer be cancelled. Wait for it to end.',
  LINE_PORT_ABSENT: 'No device port is connected on this slot. Connect the device, then start it.',
  LINE_STOPPED: 'The line is stopped.',
  LINE_LOCKED:
    'The line waits for the CA passphrase: a supervisor unlocks it at the workstation itself first.',
  LINE_SYNC_NOT_CONFIGURED:
    'This station has no DPS connection, so there is no sync to control. A supervisor sets it with `station sync set-connection`.',
} as const;

export type LineErrorCode = keyof typeof lineErrorText;

/** A line command that cannot be carried out: stable code, operator text, log detail. */
export class LineError extends Error {
  constructor(
    readonly code: LineErrorCode,
    readonly detail?: string,
  ) {
    super(lineErrorText[code]);
    this.name = 'LineError';
  }

  toJSON(): CodedError {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}
