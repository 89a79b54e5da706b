/**
 * Turning what a pipe delivered into a plain value, with the size limit applied first so a huge
 * message costs the receiver as little as possible. Shared by both ends (browser-safe: no Node
 * built-ins).
 */
import { API_ERROR_CODES, MAX_MESSAGE_BYTES, type ApiError } from './contract.js';

type WireRefusal = { ok: false; error: ApiError };
export type WireRead = { ok: true; value: unknown } | WireRefusal;

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

function tooLarge(limit: number): WireRefusal {
  return {
    ok: false,
    error: {
      code: API_ERROR_CODES.tooLarge,
      message: `The message is larger than the station accepts (${limit} bytes).`,
    },
  };
}

function bad(detail: string): WireRefusal {
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
    const measured = boundedJson(data, limit);
    if (!measured.ok) return measured;
    textForm = measured.text;
  } else return bad(`expected JSON text or a plain object, got ${describe(data)}`);

  if (exceedsBytes(textForm, limit)) return tooLarge(limit);
  if (typeof data !== 'string') return { ok: true, value: data };
  try {
    return { ok: true, value: JSON.parse(textForm) as unknown };
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message}`);
  }
}

/** Thrown from the replacer to stop serialising at once; carries the answer. */
class Refusal {
  constructor(readonly read: WireRefusal) {}
}

/**
 * The JSON text of a cloned object, stopping as soon as it is sure to pass `limit`. A cloned
 * object has no byte size of its own, and serialising it whole first would let one message hold
 * the core's event loop for seconds (a typed array's text is ~10× its bytes). The replacer keeps a
 * running estimate of the text; the exact byte check follows for what passes. The estimate may
 * run ahead of the text by a few bytes per entry (a comma counted for each first entry, keys of
 * `undefined` values that JSON omits, counted so the work stays bounded too), so a message
 * within a few bytes per entry of the limit may be refused.
 * Values JSON has no form for (typed arrays, buffers, Map, Date, ...) are refused outright:
 * JSON.stringify would quietly turn them into something else.
 */
function boundedJson(data: object, limit: number): { ok: true; text: string } | WireRefusal {
  let count = 0;
  let root = true;
  const replacer = function (this: unknown, key: string, value: unknown): unknown {
    // `this[key]` is the value before any toJSON(), which is what was actually sent.
    const sent = (this as Record<string, unknown>)[key];
    if (root) root = false;
    else count += Array.isArray(this) ? 1 : key.length + 4; // "key": and a comma
    if (typeof sent === 'object' && sent !== null) {
      if (ArrayBuffer.isView(sent) || sent instanceof ArrayBuffer) {
        const bytes = sent.byteLength;
        throw new Refusal(bytes > limit ? tooLarge(limit) : bad(`binary data is not JSON`));
      }
      if (!Array.isArray(sent) && !isPlainObject(sent)) {
        throw new Refusal(bad(`${describe(sent)} at "${key.slice(0, 64)}" is not JSON`));
      }
      count += 2;
    } else if (typeof sent === 'string') count += sent.length + 2;
    else if (typeof sent === 'bigint')
      throw new Refusal(bad(`a bigint at "${key.slice(0, 64)}" is not JSON`));
    else count += 1;
    if (count > limit) throw new Refusal(tooLarge(limit));
    return value;
  };
  try {
    return { ok: true, text: JSON.stringify(data, replacer) };
  } catch (err) {
    if (err instanceof Refusal) return err.read;
    return bad(`not serialisable: ${(err as Error).message}`);
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
