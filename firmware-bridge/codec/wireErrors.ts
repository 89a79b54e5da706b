/**
 * Errors of the device wire. Every failure crosses module boundaries as a stable `code`, an
 * operator `message` (what the technician should do) and a `detail` for the log.
 */

/** Error codes a device sends in an error response (PROTOCOL.md §7). */
export const DeviceErrorCode = {
  MALFORMED: 1,
  UNKNOWN_TYPE: 2,
  UNSUPPORTED_VERSION: 3,
  NOT_SUPPORTED: 4,
  BUSY: 5,
  BAD_STATE: 6,
  TOO_LARGE: 7,
  KEY_MISMATCH: 8,
  STORAGE: 9,
  NOTHING_STAGED: 10,
  LOCKED: 11,
  INVALID_ARGUMENT: 12,
  TRANSFER: 13,
} as const;
export type DeviceErrorName = keyof typeof DeviceErrorCode;

const deviceErrorNames = new Map<number, DeviceErrorName>(
  Object.entries(DeviceErrorCode).map(([name, code]) => [code, name as DeviceErrorName]),
);

/** Stable codes of the wire layer, as the station and the UI see them. */
export type WireErrorCode =
  | 'WIRE_TIMEOUT'
  | 'WIRE_LINK_NOISY'
  | 'WIRE_DISCONNECTED'
  | 'WIRE_ABORTED'
  | 'WIRE_PORT_OPEN_FAILED'
  | 'WIRE_SERVER_UNREACHABLE'
  | 'WIRE_BAD_RESPONSE'
  | 'WIRE_MESSAGE_TOO_LARGE'
  | `DEVICE_${DeviceErrorName}`
  | 'DEVICE_ERROR_UNKNOWN';

const operatorText: Record<WireErrorCode, string> = {
  WIRE_TIMEOUT: 'The device stopped answering. Check the cable and power, then retry this device.',
  WIRE_LINK_NOISY:
    "The line to the device is noisy: frames arrived damaged or were lost, though the station asked again. Check the cable and its shielding, and that the baud rate matches the device's, then retry this device.",
  WIRE_DISCONNECTED: 'The device was disconnected. Reconnect it and retry.',
  WIRE_ABORTED: 'The step was cancelled.',
  WIRE_PORT_OPEN_FAILED:
    'The port could not be opened. Check that no other program uses it and that the station may access it.',
  WIRE_SERVER_UNREACHABLE:
    'The serial device server did not take the connection. Check its address, power and network cable, and that no other station is connected to it.',
  WIRE_BAD_RESPONSE:
    'The device sent an answer the station cannot read. Its firmware may not match this station; set it aside for engineering.',
  WIRE_MESSAGE_TOO_LARGE: 'The data is larger than the device accepts. Check the product profile.',
  DEVICE_MALFORMED:
    'The device could not read the request. Its firmware may not match this station; set it aside for engineering.',
  DEVICE_UNKNOWN_TYPE:
    'The device firmware does not know this step. Update the firmware or check the product profile.',
  DEVICE_UNSUPPORTED_VERSION:
    'The device speaks another protocol version. Update the firmware before provisioning.',
  DEVICE_NOT_SUPPORTED:
    'The device lacks a capability this product needs (key generation, TPM, key slot). Check the model and profile.',
  DEVICE_BUSY: 'The device is still busy with an earlier step. Retry this device.',
  DEVICE_BAD_STATE: 'The device was not ready for this step. Retry this device from the start.',
  DEVICE_TOO_LARGE: 'The data is larger than the device accepts. Check the product profile.',
  DEVICE_KEY_MISMATCH:
    'The certificate does not match the key on the device. Retry; if it repeats, set the device aside.',
  DEVICE_STORAGE: 'The device could not write its flash memory. Set the device aside as defective.',
  DEVICE_NOTHING_STAGED:
    'The device lost the staged settings (it may have rebooted). Retry this device from the start.',
  DEVICE_LOCKED:
    'The device refuses to overwrite its identity. Factory-reset it only if re-provisioning is intended.',
  DEVICE_INVALID_ARGUMENT:
    'The device rejected a value. Check the product profile (lengths, curve).',
  DEVICE_TRANSFER: 'The transfer to the device broke off. Retry this device.',
  DEVICE_ERROR_UNKNOWN:
    'The device reported an error the station does not know. Set it aside for engineering.',
};

/** A failure on the device wire: stable code, operator text, log detail. */
export class WireError extends Error {
  readonly code: WireErrorCode;
  readonly detail: string | undefined;

  constructor(code: WireErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(operatorText[code], options);
    this.name = 'WireError';
    this.code = code;
    this.detail = detail;
  }

  /** The shape errors take when they cross a process or API boundary. */
  toJSON(): { code: WireErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/** Maps a device error response to a WireError. */
export function deviceError(code: number, detail?: string): WireError {
  const name = deviceErrorNames.get(code);
  if (name === undefined) {
    return new WireError(
      'DEVICE_ERROR_UNKNOWN',
      `device error ${code}${detail ? `: ${detail}` : ''}`,
    );
  }
  return new WireError(`DEVICE_${name}`, detail);
}

export function operatorTextFor(code: WireErrorCode): string {
  return operatorText[code];
}

/** Whether `code` is one of the wire's stable codes (for callers that check a coded error). */
export function isWireErrorCode(code: string): code is WireErrorCode {
  return Object.hasOwn(operatorText, code);
}
