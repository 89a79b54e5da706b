import { MAX_MESSAGE } from '../codec/frame.js';
import type { DecoderStats } from '../codec/frameDecoder.js';

/** How a DeviceSession (deviceSession.ts) is tuned, per session and per request. */

export interface SessionOptions {
  /** Largest frame body the station accepts from the device (announced in INFO). */
  hostMaxFrame?: number;
  /** Largest reassembled response the station accepts. */
  hostMaxMessage?: number;
  /**
   * Re-sends of a request with its request id (PROTOCOL.md §6.1): after a timeout for an
   * idempotent request, after a damaged answer for any.
   */
  retries?: number;
  /**
   * Re-sends of a non-idempotent request met by silence, spread evenly within its one timeout
   * (silenceResends.ts; PROTOCOL.md §6.1). Default 2: at one third and two thirds.
   */
  silenceResends?: number;
  /** Re-sends of one chunk or ACK before a chunked transfer gives up. */
  chunkRetries?: number;
  /** Link speed, to add transmission time to timeouts; omit for links with no UART in the path. */
  baudRate?: number;
  /** Scales the per-message timeout guidance; tests shorten it, slow firmware lengthens it. */
  timeoutScale?: number;
  /** Base wait for the next chunk or ACK of a transfer, before link time. */
  chunkTimeoutMs?: number;
  /**
   * How long a request the device refuses with BUSY is sent again before DEVICE_BUSY stands
   * (busyRetry.ts). Default: the longest per-message timeout guidance, scaled: the longest the
   * device may still be finishing a request the station gave up on.
   */
  busyWaitMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides the computed response timeout. */
  timeoutMs?: number;
  /** Overrides the retry count (SessionOptions.retries). */
  retries?: number;
}

/** Link counters; `payloadBytes*` count each CBOR message once, however it was chunked. */
export interface SessionStats {
  bytesWritten: number;
  bytesRead: number;
  payloadBytesSent: number;
  payloadBytesReceived: number;
  framesSent: number;
  retransmissions: number;
  /** Well-formed frames that belonged to no exchange in flight (late answers, echoes). */
  staleFrames: number;
  decoder: DecoderStats;
}

/** What a session uses for each option left out. */
export const SESSION_DEFAULTS = {
  hostMaxFrame: 4096,
  hostMaxMessage: MAX_MESSAGE,
  retries: 2,
  silenceResends: 2,
  chunkRetries: 4,
  timeoutScale: 1,
  chunkTimeoutMs: 300,
};
