import { refuse, type DeviceRefusal } from './deviceOutcome.js';

/** What the device does with one chunk of a request (PROTOCOL.md §5, request direction). */
export type ReassemblyStep =
  /** Tell the host how many contiguous bytes the device holds. */
  | { kind: 'ack'; nextOffset: number }
  /** Answer with an error; the partial message is gone. */
  | { kind: 'refuse'; refusal: DeviceRefusal }
  /** The last chunk arrived: execute the message. It is not ACKed, the response is the ACK. */
  | { kind: 'complete'; message: Uint8Array };

interface Transfer {
  type: number;
  requestId: number;
  total: number;
  buffer: Uint8Array;
  next: number;
}

/**
 * Reassembles one chunked request. The device holds at most one transfer: a chunk of another
 * request (type or id) discards the old one. Chunks must arrive in order; a repeat or a gap is
 * answered with an ACK naming the offset the device needs, so a lost chunk costs one chunk.
 */
export class RequestReassembly {
  private transfer: Transfer | undefined;

  constructor(private readonly maxMessage: number) {}

  get inProgress(): boolean {
    return this.transfer !== undefined;
  }

  clear(): void {
    this.transfer = undefined;
  }

  accept(
    type: number,
    requestId: number,
    chunk: { offset: number; total: number },
    data: Uint8Array,
  ): ReassemblyStep {
    let t = this.transfer;
    if (t === undefined || t.type !== type || t.requestId !== requestId) {
      this.transfer = undefined;
      if (chunk.total > this.maxMessage) {
        return {
          kind: 'refuse',
          refusal: refuse('TOO_LARGE', `${chunk.total} > ${this.maxMessage}`),
        };
      }
      t = { type, requestId, total: chunk.total, buffer: new Uint8Array(chunk.total), next: 0 };
      this.transfer = t;
    }
    if (chunk.total !== t.total) {
      this.transfer = undefined;
      return {
        kind: 'refuse',
        refusal: refuse('TRANSFER', `total ${chunk.total} after ${t.total}`),
      };
    }
    // A repeat, a gap, or an empty chunk that makes no progress: say where to continue.
    if (chunk.offset !== t.next || (data.length === 0 && t.next < t.total)) {
      return { kind: 'ack', nextOffset: t.next };
    }
    t.buffer.set(data, t.next);
    t.next += data.length;
    if (t.next < t.total) return { kind: 'ack', nextOffset: t.next };
    this.transfer = undefined;
    return { kind: 'complete', message: t.buffer };
  }
}
