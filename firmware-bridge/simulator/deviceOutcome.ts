import type { DeviceErrorName } from '../codec/wireErrors.js';
import type { DeviceWorkContext } from './deviceLatencies.js';

/** A refusal the device sends as an error response (PROTOCOL.md §7). */
export interface DeviceRefusal {
  refused: DeviceErrorName;
  /** For the host's log; ≤ 64 bytes on the wire, never key material. */
  detail?: string;
}

/** What executing one request produced. */
export type FirmwareOutcome =
  | { status: 'ok'; data: Uint8Array; work: DeviceWorkContext }
  | { status: 'error'; refusal: DeviceRefusal }
  /** The device rebooted while working: there is nobody left to answer. */
  | { status: 'aborted' };

export function refuse(refused: DeviceErrorName, detail?: string): DeviceRefusal {
  return detail === undefined ? { refused } : { refused, detail };
}

export function isRefusal(value: unknown): value is DeviceRefusal {
  return typeof value === 'object' && value !== null && 'refused' in value;
}

const MAX_DETAIL_BYTES = 64;
const utf8 = new TextEncoder();

/** Cuts `text` to at most 64 UTF-8 bytes without splitting a character. */
export function clipDetail(text: string): string {
  if (utf8.encode(text).length <= MAX_DETAIL_BYTES) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = utf8.encode(ch).length;
    if (bytes + n > MAX_DETAIL_BYTES - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}
