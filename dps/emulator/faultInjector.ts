import type { EmulatorFaults } from './dpsEmulator.js';

/**
 * What happens to one request:
 * - `serverError500` / `serverError503`: a DPS error answer, the request not applied;
 * - `throttle`: 429 with Retry-After, not applied;
 * - `resetBefore`: the socket destroyed, not applied;
 * - `resetAfter`: applied, then the socket destroyed (the client cannot tell it was applied).
 */
export type FaultDecision =
  'none' | 'serverError500' | 'serverError503' | 'throttle' | 'resetBefore' | 'resetAfter';

/** The seed when the caller gives none, so that a run is reproducible by default. */
const DEFAULT_SEED = 0x5eed;

/**
 * Seeded fault decisions. Every request draws the same number of values from the PRNG whatever
 * the rates, so one seed gives one sequence of decisions for a given sequence of requests.
 * Server errors are checked first, then throttles, then resets.
 */
export class FaultInjector {
  private faults: EmulatorFaults = {};
  private random: () => number = mulberry32(DEFAULT_SEED);

  constructor(faults: EmulatorFaults = {}) {
    this.set(faults);
  }

  /** Replaces the faults and restarts the sequence from the (new) seed. */
  set(faults: EmulatorFaults): void {
    for (const name of ['serverErrorRate', 'resetRate', 'throttleRate'] as const) {
      const rate = faults[name];
      if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
        throw new RangeError(`${name} must be between 0 and 1`);
      }
    }
    if (faults.latencyMs !== undefined && !(faults.latencyMs >= 0)) {
      throw new RangeError('latencyMs must be zero or more');
    }
    this.faults = { ...faults };
    this.random = mulberry32(faults.seed ?? DEFAULT_SEED);
  }

  get latencyMs(): number {
    return this.faults.latencyMs ?? 0;
  }

  decide(): FaultDecision {
    const [error, errorKind, throttle, reset, resetKind] = [1, 2, 3, 4, 5].map(() =>
      this.random(),
    ) as [number, number, number, number, number];
    if (error < (this.faults.serverErrorRate ?? 0)) {
      return errorKind < 0.5 ? 'serverError500' : 'serverError503';
    }
    if (throttle < (this.faults.throttleRate ?? 0)) return 'throttle';
    if (reset < (this.faults.resetRate ?? 0)) {
      return resetKind < 0.5 ? 'resetBefore' : 'resetAfter';
    }
    return 'none';
  }
}

/** A small, fast 32-bit PRNG (mulberry32); values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
