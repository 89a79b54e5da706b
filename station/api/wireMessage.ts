/**
 * Turning what a pipe delivered into a plain value, with the size limit applied first so a huge
 * message costs the receiver as little as possible. Shared by both ends (browser-safe: no Node
 * built-ins).
 */
import { API_ERROR_CODES, MAX_MESSAGE_BYTES, type ApiError } from './contract.js';

export type WireRead = { ok: true; value: unknown } | { ok: false; error: ApiError };

const utf8 = new TextEncoder();

/** UTF-8 length of `text`, encoding only when the UTF-16 length cannot decide it. */
function exceedsBytes(text: string, limit: number): boolean {
  // Each UTF-16 unit is 1..3 UTF-8 bytes, so the cheap bounds settle almost every message.
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return utf8.encode(text).length > limit;
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function tooLarge(limit: number): WireRead {
  return {
    ok: false,
    error: {
      code: API_ERROR_CODES.tooLarge,
      message: `The message is larger than the station accepts (${limit} bytes).`,
    },
  };
}

function bad(detail: string): WireRead {
  return {
    ok: false,
    error: {
      code: API_ERROR_CODES.badMessage,
      message: 'The station could not read the message.',
      detail,
    },
  };
}

/**
 * Reads one message as a pipe delivered it: JSON text (WebSocket) or a plain object
 * (MessagePort structured clone). Anything else (binary frames, class instances) is refused.
 */
export function readWireMessage(data: unknown, limit = MAX_MESSAGE_BYTES): WireRead {
  let textForm: string;
  if (typeof data === 'string') textForm = data;
  else if (isPlainObject(data)) {
    // A cloned object has no byte size of its own; its JSON text is what the limit means.
    try {
      textForm = JSON.stringify(data);
    } catch (err) {
      return bad(`not serialisable: ${(err as Error).message}`);
    }
  } else return bad(`expected JSON text or a plain object, got ${describe(data)}`);

  if (exceedsBytes(textForm, limit)) return tooLarge(limit);
  if (typeof data !== 'string') return { ok: true, value: data };
  try {
    return { ok: true, value: JSON.parse(textForm) as unknown };
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}

/** Serialises a message for a text pipe. */
export function encodeWireMessage(message: object): string {
  return JSON.stringify(message);
}
