import { CborReader, CborSyntaxError, MAJOR_MAP, MAJOR_TSTR, MAJOR_UINT } from './cborReader.js';
import {
  decodeWithSchema,
  encodeWithSchema,
  MessageFormatError,
  type Schema,
} from './cborSchema.js';

/** Longest error detail a device may send, in bytes (PROTOCOL.md §7). */
export const ERROR_DETAIL_MAX = 64;

/** Error response body (PROTOCOL.md §7). */
export const errorSchema: Schema = {
  code: { key: 1, kind: 'uint' },
  detail: { key: 2, kind: 'tstr', optional: true, max: ERROR_DETAIL_MAX },
};
export interface ErrorBody {
  code: number;
  detail?: string;
}

/** Replaces invalid UTF-8 with U+FFFD instead of refusing it: the detail only goes to a log. */
const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Encodes strictly: the station's own devices (the simulator) keep every rule of §7. */
export function encodeErrorBody(body: ErrorBody): Uint8Array {
  return encodeWithSchema(errorSchema, body);
}

/**
 * Decodes an error body. The code drives the host (the BUSY retry of §6.1, the operator text of
 * every other code); the detail is only for the log. So a detail that breaks §7 (over 64 bytes,
 * invalid UTF-8, not text) must not cost the code: such a body is read again leniently, the
 * detail clipped to 64 bytes (marked with `…`) and decoded with U+FFFD, or dropped when it is not
 * text. A body without a readable code, or that is not a well-formed map, still throws.
 */
export function decodeErrorBody(bytes: Uint8Array): ErrorBody {
  try {
    return decodeWithSchema<ErrorBody>(errorSchema, bytes);
  } catch (err) {
    if (!(err instanceof MessageFormatError)) throw err;
    const lenient = readLeniently(bytes);
    if (lenient === undefined) throw err;
    return lenient;
  }
}

const DETAIL_KEY = 2;
const CODE_KEY = 1;

function readLeniently(bytes: Uint8Array): ErrorBody | undefined {
  const reader = new CborReader(bytes);
  let code: number | undefined;
  let detail: string | undefined;
  try {
    reader.readHead();
    const top = reader.major;
    if (top !== MAJOR_MAP) return undefined;
    const count = reader.arg;
    for (let i = 0; i < count; i++) {
      reader.readHead();
      const key = reader.major === MAJOR_UINT ? reader.arg : undefined;
      skipLeniently(reader);
      reader.readHead();
      if (key === CODE_KEY) {
        if (reader.major !== MAJOR_UINT || code !== undefined) return undefined;
        code = reader.arg;
      } else if (key === DETAIL_KEY && reader.major === MAJOR_TSTR) {
        detail = clipDetail(reader.byteString());
      } else {
        skipLeniently(reader);
      }
    }
    reader.expectEnd();
  } catch (err) {
    if (err instanceof CborSyntaxError) return undefined;
    throw err;
  }
  if (code === undefined) return undefined;
  return detail === undefined ? { code } : { code, detail };
}

/** Skips what follows the head just read; text is skipped unread, whatever its bytes. */
function skipLeniently(reader: CborReader): void {
  if (reader.major === MAJOR_TSTR) reader.pos += reader.arg;
  else reader.skipBody(2);
}

function clipDetail(raw: Uint8Array): string {
  if (raw.length <= ERROR_DETAIL_MAX) return lossyUtf8.decode(raw);
  return `${lossyUtf8.decode(raw.subarray(0, ERROR_DETAIL_MAX))}…`;
}
