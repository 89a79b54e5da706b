import { mulberry32 } from './seededRandom.js';

/** Per-byte probabilities of line damage, each in 0..1; their sum must not exceed 1. */
export interface ByteFaultRates {
  /** The byte never arrives (framing error, overrun). */
  drop: number;
  /** The byte arrives with one or more bits flipped. */
  corrupt: number;
  /** The byte arrives twice (a bouncing contact, a confused USB bridge). */
  duplicate: number;
}

export const NO_BYTE_FAULTS: Readonly<ByteFaultRates> = Object.freeze({
  drop: 0,
  corrupt: 0,
  duplicate: 0,
});

export interface ByteFaultCounts {
  dropped: number;
  corrupted: number;
  duplicated: number;
}

/** Damages bytes of one direction of the line, repeatably for a given seed. */
export class ByteFaultInjector {
  readonly counts: ByteFaultCounts = { dropped: 0, corrupted: 0, duplicated: 0 };
  private rates: ByteFaultRates = NO_BYTE_FAULTS;
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  get current(): Readonly<ByteFaultRates> {
    return this.rates;
  }

  set(rates: Partial<ByteFaultRates>): void {
    const next = { ...this.rates, ...rates };
    for (const [name, p] of Object.entries(next)) {
      if (!Number.isFinite(p) || p < 0 || p > 1) {
        throw new RangeError(`${name} probability must be in 0..1, got ${p}`);
      }
    }
    if (next.drop + next.corrupt + next.duplicate > 1) {
      throw new RangeError('drop + corrupt + duplicate must not exceed 1');
    }
    this.rates = next;
  }

  apply(bytes: Uint8Array): Uint8Array {
    const { drop, corrupt, duplicate } = this.rates;
    // A clean line draws no random numbers, so enabling faults later replays the same damage.
    if (drop === 0 && corrupt === 0 && duplicate === 0) return bytes;
    const out: number[] = [];
    for (const byte of bytes) {
      const r = this.random();
      if (r < drop) {
        this.counts.dropped++;
      } else if (r < drop + corrupt) {
        // A nonzero mask, so the byte really changes.
        out.push(byte ^ (1 + Math.floor(this.random() * 255)));
        this.counts.corrupted++;
      } else if (r < drop + corrupt + duplicate) {
        out.push(byte, byte);
        this.counts.duplicated++;
      } else {
        out.push(byte);
      }
    }
    return Uint8Array.from(out);
  }
}
