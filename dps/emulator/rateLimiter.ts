import type { EmulatorRateLimit } from './dpsEmulator.js';

/** The two DPS rates (dps-protocol.md §3): every call is an operation; a register PUT is both. */
export type RateKind = 'operations' | 'registrations';

export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/**
 * Fixed-window counters, one per kind, sharing window boundaries that start when the limit is
 * set. A refused call does not consume quota, so a client that waits for `Retry-After` gets in
 * at the start of the next window.
 */
export class FixedWindowRateLimiter {
  private limit: EmulatorRateLimit | false;
  private epoch: number;
  private window = 0;
  private readonly used: Record<RateKind, number> = { operations: 0, registrations: 0 };

  constructor(
    limit: EmulatorRateLimit | false,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = validated(limit);
    this.epoch = now();
  }

  /** Replaces the limit and starts a fresh window now. */
  set(limit: EmulatorRateLimit | false): void {
    this.limit = validated(limit);
    this.epoch = this.now();
    this.window = 0;
    this.used.operations = 0;
    this.used.registrations = 0;
  }

  /** Takes one unit of every kind listed, or none if any kind is exhausted in this window. */
  admit(kinds: readonly RateKind[]): Admission {
    const limit = this.limit;
    if (limit === false) return { admitted: true };
    const elapsed = this.now() - this.epoch;
    const window = Math.floor(elapsed / limit.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.used.operations = 0;
      this.used.registrations = 0;
    }
    const capacity: Record<RateKind, number> = {
      operations: limit.operationsPerWindow,
      registrations: limit.registrationsPerWindow ?? limit.operationsPerWindow,
    };
    if (kinds.some((kind) => this.used[kind] >= capacity[kind])) {
      const remainingMs = (window + 1) * limit.windowMs - elapsed;
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
    }
    for (const kind of kinds) this.used[kind] += 1;
    return { admitted: true };
  }
}

function validated(limit: EmulatorRateLimit | false): EmulatorRateLimit | false {
  if (limit === false) return false;
  const positive = (n: number | undefined): boolean =>
    n === undefined || (Number.isFinite(n) && n > 0);
  if (
    !positive(limit.operationsPerWindow) ||
    !positive(limit.windowMs) ||
    !positive(limit.registrationsPerWindow)
  ) {
    throw new RangeError('rate limit counts and windowMs must be positive numbers');
  }
  return { ...limit };
}
