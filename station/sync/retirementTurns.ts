import { RevocationDisables } from './revocationDisables.js';
import { SupersededRetirement, type RetirementParts } from './supersededRetirement.js';

/**
 * Passes that take turns at the worker's spare time: superseded retirements and revocation
 * disables. Always asking one first would leave the other waiting for as long as the first has
 * work, and a revoked certificate's enrollment would stay enabled in DPS behind a long run of
 * retirements.
 */
export class TakingTurns<P extends { isDue(): boolean }> {
  private next = 0;

  constructor(private readonly passes: readonly P[]) {}

  /** The first pass with work, starting after the one this last returned; undefined if none. */
  due(): P | undefined {
    for (let i = 0; i < this.passes.length; i++) {
      const at = (this.next + i) % this.passes.length;
      const pass = this.passes[at]!;
      if (pass.isDue()) {
        this.next = at + 1;
        return pass;
      }
    }
    return undefined;
  }
}

/** The worker's retirement passes, taking turns: superseded enrollments, revoked certificates. */
export function retirementTurns(
  parts: RetirementParts,
): TakingTurns<SupersededRetirement | RevocationDisables> {
  return new TakingTurns([new SupersededRetirement(parts), new RevocationDisables(parts)]);
}
