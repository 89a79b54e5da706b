import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.js';
import { crc32 } from './crc32.js';

/** Protocol version carried in every body (PROTOCOL.md §2.2). */
export const PROTOCOL_VERSION = 1;
/** Both sides accept bodies of at least this size before INFO has negotiated more. */
export const MIN_MAX_FRAME = 256;
export const FRAME_DELIMITER = 0x00;

/** Flags share the first byte with the version: version in the high nibble, flags in the low. */
export const FLAG_DEVICE = 0x01;
export const FLAG_ERROR = 0x02;
export const FLAG_CHUNK = 0x04;
export const FLAG_ACK = 0x08;

export const HEADER_LENGTH = 3;
export const CHUNK_HEADER_LENGTH = 4;
export const ACK_HEADER_LENGTH = 2;
export const CRC_LENGTH = 4;
/** Largest whole message: chunk offsets and totals are 16-bit. */
export const MAX_MESSAGE = 0xffff;
/** Request ids are one byte; 0 is never used. */
export const MAX_REQUEST_ID = 0xff;
/** Smallest possible body: header plus CRC. */
export const MIN_BODY_LENGTH = HEADER_LENGTH + CRC_LENGTH;

/** One decoded frame. `data` is CBOR, a slice of CBOR (chunk), or empty (ack). */
export interface Frame {
  type: number;
  requestId: number;
  /** Sent by the device (responses, errors, device ACKs). */
  fromDevice: boolean;
  error: boolean;
  chunk?: { offset: number; total: number };
  /** For ACK frames: the offset the receiver expects next. */
  ackNextOffset?: number;
  data: Uint8Array;
}

/** Why a body was refused; the decoder counts each reason separately. */
export type BodyRejection = 'short' | 'crc' | 'version' | 'flags' | 'layout';

/** Number of body bytes (before COBS) this frame needs. */
export function frameBodyLength(frame: Frame): number {
  const ext =
    frame.chunk !== undefined
      ? CHUNK_HEADER_LENGTH
      : frame.ackNextOffset !== undefined
        ? ACK_HEADER_LENGTH
        : 0;
  return HEADER_LENGTH + ext + frame.data.length + CRC_LENGTH;
}

/** Builds the body (header, extension, data, CRC) of a frame. */
export function encodeBody(frame: Frame): Uint8Array {
  if (!(frame.requestId >= 1 && frame.requestId <= MAX_REQUEST_ID)) {
    throw new RangeError(`request id ${frame.requestId} outside 1..${MAX_REQUEST_ID}`);
  }
  const offsets = frame.chunk
    ? [frame.chunk.offset, frame.chunk.total]
    : [frame.ackNextOffset ?? 0];
  if (offsets.some((n) => !(n >= 0 && n <= MAX_MESSAGE))) {
    throw new RangeError(`offset outside 0..${MAX_MESSAGE}`);
  }
  const body = new Uint8Array(frameBodyLength(frame));
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let flags = 0;
  if (frame.fromDevice) flags |= FLAG_DEVICE;
  if (frame.error) flags |= FLAG_ERROR;
  if (frame.chunk !== undefined) flags |= FLAG_CHUNK;
  else if (frame.ackNextOffset !== undefined) flags |= FLAG_ACK;
  body[0] = (PROTOCOL_VERSION << 4) | flags;
  body[1] = frame.type;
  body[2] = frame.requestId;
  let pos = HEADER_LENGTH;
  if (frame.chunk !== undefined) {
    view.setUint16(pos, frame.chunk.offset);
    view.setUint16(pos + 2, frame.chunk.total);
    pos += CHUNK_HEADER_LENGTH;
  } else if (frame.ackNextOffset !== undefined) {
    view.setUint16(pos, frame.ackNextOffset);
    pos += ACK_HEADER_LENGTH;
  }
  body.set(frame.data, pos);
  pos += frame.data.length;
  view.setUint32(pos, crc32(body.subarray(0, pos)), true);
  return body;
}

/** Encodes a frame as it goes on the wire: COBS(body) followed by the 0x00 delimiter. */
export function encodeFrame(frame: Frame): Uint8Array {
  return encodeWire(frame, false);
}

/**
 * encodeFrame for data that is a secret (a key): the intermediate body, a plain copy of the
 * data, is zeroed before returning. The frame returned still holds the data (COBS-encoded);
 * its owner zeroes it once it is no longer needed.
 */
export function encodeSecretFrame(frame: Frame): Uint8Array {
  return encodeWire(frame, true);
}

function encodeWire(frame: Frame, secret: boolean): Uint8Array {
  const body = encodeBody(frame);
  const out = new Uint8Array(cobsMaxEncodedLength(body.length) + 1);
  const n = cobsEncodeInto(body, out, 0);
  if (secret) body.fill(0);
  out[n] = FRAME_DELIMITER;
  return out.subarray(0, n + 1);
}

/** Parses a COBS-decoded body. Returns the frame, or the reason it was refused. */
export function parseBody(body: Uint8Array): Frame | BodyRejection {
  if (body.length < MIN_BODY_LENGTH) return 'short';
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const crcAt = body.length - CRC_LENGTH;
  if (view.getUint32(crcAt, true) !== crc32(body.subarray(0, crcAt))) return 'crc';
  if (body[0]! >> 4 !== PROTOCOL_VERSION) return 'version';
  const flags = body[0]! & 0x0f;
  const isChunk = (flags & FLAG_CHUNK) !== 0;
  const isAck = (flags & FLAG_ACK) !== 0;
  const fromDevice = (flags & FLAG_DEVICE) !== 0;
  const error = (flags & FLAG_ERROR) !== 0;
  if ((isChunk && isAck) || (error && !fromDevice)) return 'flags';
  const requestId = body[2]!;
  if (requestId === 0) return 'layout';
  const frame: Frame = { type: body[1]!, requestId, fromDevice, error, data: body.subarray(0, 0) };
  let pos = HEADER_LENGTH;
  if (isChunk) {
    if (crcAt - pos < CHUNK_HEADER_LENGTH) return 'layout';
    const offset = view.getUint16(pos);
    const total = view.getUint16(pos + 2);
    pos += CHUNK_HEADER_LENGTH;
    if (offset + (crcAt - pos) > total) return 'layout';
    frame.chunk = { offset, total };
  } else if (isAck) {
    if (crcAt - pos !== ACK_HEADER_LENGTH) return 'layout';
    frame.ackNextOffset = view.getUint16(pos);
    pos += ACK_HEADER_LENGTH;
  }
  frame.data = body.subarray(pos, crcAt);
  return frame;
}
