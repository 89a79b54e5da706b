import {
  CHUNK_HEADER_LENGTH,
  CRC_LENGTH,
  encodeFrame,
  encodeSecretFrame,
  HEADER_LENGTH,
  type Frame,
} from '../codec/frame.js';
import { damagedFrames } from '../codec/frameDecoder.js';
import { decodeErrorBody } from '../codec/messages.js';
import { deviceError, WireError } from '../codec/wireErrors.js';
import type { SessionStats } from './deviceSession.js';

/**
 * The chunked transfer of PROTOCOL.md §5, host side: a request sent whole or in chunks with the
 * device ACKing each, and a response reassembled with the host ACKing each chunk. Lost chunks
 * and lost ACKs are re-sent from the offset the peer names, a bounded number of times.
 */

/** What a transfer needs from the session that owns the link. */
export interface TransferLink {
  /** Writes a frame; a write that stalls or that `signal` cancels ends the link. */
  write(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void>;
  /** The next frame of the exchange in flight, or null after `timeoutMs`. */
  next(timeoutMs: number, signal: AbortSignal | undefined): Promise<Frame | null>;
  chunkTimeoutMs(): number;
  /** Largest body the device accepts (announced in INFO). */
  frameLimit(): number;
  chunkRetries(): number;
  /** Largest reassembled response the station accepts. */
  maxMessage(): number;
  stats(): Pick<SessionStats, 'retransmissions' | 'payloadBytesReceived' | 'decoder'>;
  /**
   * The error for a chunk or ACK that met silence to the end; `damagedBefore` is the damaged
   * frame count when the transfer began (noAnswerError.ts).
   */
  noAnswer(what: string, damagedBefore: number): WireError;
  /**
   * The message carries a secret (messages.ts secretMessages): frame bodies are zeroed as soon
   * as they are encoded; the frames themselves go through `write`, whose owner zeroes them.
   */
  readonly secret?: boolean;
}

/** The WireError a device error frame carries (PROTOCOL.md §7). */
export function errorFromFrame(frame: Frame): WireError {
  try {
    const body = decodeErrorBody(frame.data);
    return deviceError(body.code, body.detail);
  } catch {
    return new WireError('WIRE_BAD_RESPONSE', 'unreadable error response');
  }
}

/** Sends a message whole or in chunks from `fromOffset`; returns the last frame written. */
export async function sendMessage(
  link: TransferLink,
  type: number,
  requestId: number,
  data: Uint8Array,
  fromOffset: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const base = { type, requestId, fromDevice: false, error: false };
  const encode = link.secret ? encodeSecretFrame : encodeFrame;
  if (HEADER_LENGTH + data.length + CRC_LENGTH <= link.frameLimit()) {
    const frame = encode({ ...base, data });
    await link.write(frame, signal);
    return frame;
  }
  const slice = link.frameLimit() - HEADER_LENGTH - CHUNK_HEADER_LENGTH - CRC_LENGTH;
  let offset = fromOffset;
  const damagedBefore = damagedFrames(link.stats().decoder);
  let tries = 0;
  for (;;) {
    const end = Math.min(offset + slice, data.length);
    const frame = encode({
      ...base,
      chunk: { offset, total: data.length },
      data: data.subarray(offset, end),
    });
    await link.write(frame, signal);
    if (end === data.length) return frame;
    const reply = await link.next(link.chunkTimeoutMs(), signal);
    if (reply === null || (reply.ackNextOffset !== undefined && reply.ackNextOffset <= offset)) {
      if (++tries > link.chunkRetries()) {
        throw link.noAnswer(`chunk at ${offset} of ${data.length} not acknowledged`, damagedBefore);
      }
      link.stats().retransmissions++;
      if (reply !== null) offset = reply.ackNextOffset!;
      continue;
    }
    if (reply.error) throw errorFromFrame(reply);
    if (reply.ackNextOffset === undefined || reply.ackNextOffset > end) {
      throw new WireError('WIRE_BAD_RESPONSE', `expected ACK up to ${end}`);
    }
    tries = 0;
    offset = reply.ackNextOffset;
  }
}

/** Returns the whole message a response frame starts, reassembling chunks (PROTOCOL.md §5). */
export async function receiveMessage(
  link: TransferLink,
  first: Frame,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  if (first.error) throw errorFromFrame(first);
  if (first.chunk === undefined) {
    link.stats().payloadBytesReceived += first.data.length;
    return first.data;
  }
  const total = first.chunk.total;
  const damagedBefore = damagedFrames(link.stats().decoder);
  if (total > link.maxMessage()) {
    throw new WireError('WIRE_MESSAGE_TOO_LARGE', `response of ${total} bytes`);
  }
  const message = new Uint8Array(total);
  let received = 0;
  let frame: Frame = first;
  let tries = 0;
  for (;;) {
    if (frame.error) throw errorFromFrame(frame);
    if (frame.chunk === undefined || frame.chunk.total !== total) {
      throw new WireError('WIRE_BAD_RESPONSE', 'chunk sequence broken');
    }
    if (frame.chunk.offset === received) {
      if (frame.data.length === 0 && received < total) {
        throw new WireError('WIRE_BAD_RESPONSE', 'empty chunk');
      }
      message.set(frame.data, received);
      received += frame.data.length;
      tries = 0;
    } else if (++tries > link.chunkRetries()) {
      // A chunk at another offset than the ACK named (a late duplicate, or a device that lost
      // its place) costs a retry like a lost one: a device that keeps sending it would otherwise
      // be ACKed forever.
      throw new WireError(
        'WIRE_BAD_RESPONSE',
        `response chunk at ${frame.chunk.offset}, expected ${received} of ${total}`,
      );
    }
    if (received === total) {
      link.stats().payloadBytesReceived += total;
      return message;
    }
    const ack = encodeFrame({
      type: first.type,
      requestId: first.requestId,
      fromDevice: false,
      error: false,
      ackNextOffset: received,
      data: new Uint8Array(0),
    });
    await link.write(ack, signal);
    let next = await link.next(link.chunkTimeoutMs(), signal);
    while (next === null) {
      if (++tries > link.chunkRetries()) {
        throw link.noAnswer(`response chunk at ${received} of ${total} lost`, damagedBefore);
      }
      link.stats().retransmissions++;
      await link.write(ack, signal);
      next = await link.next(link.chunkTimeoutMs(), signal);
    }
    frame = next;
  }
}
