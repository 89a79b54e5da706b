import {
  RETIREMENTS_PER_PASS,
  retireSuperseded,
  type RetirementParts,
  type RetirementPass,
} from './supersededRetirement.js';
import { RevocationDisableStore } from './revocationDisableStore.js';

/** The longest a due row DPS did not settle waits before its next try. */
const MAX_WAIT_MS = 60 * 60_000;

/**
 * Disables in DPS the enrollments whose certificate a supervisor revoked (`station ca revoke`)
 * and that DPS may hold (migration 022). Each goes the way a superseded enrollment is retired
 * (supersededRetirement.ts): DPS's record is read, and disabled with If-Match only when it
 * holds this station's revoked certificate; another party's record under the ID, or a later
 * certificate of the device (provisioned again, and synced since), is never touched.
 */
export class RevocationDisables {
  private readonly store: RevocationDisableStore;

  constructor(private readonly parts: RetirementParts) {
    this.store = new RevocationDisableStore(parts.db, parts.now);
  }

  isDue(): boolean {
    return this.store.hasDue();
  }

  /**
   * Disables up to RETIREMENTS_PER_PASS due rows, oldest first. Never throws: a worker-level
   * error (DPS out of reach, throttled, refused credentials, the database) ends the pass as
   * `failure`, and the rows left stay due.
   */
  async run(): Promise<RetirementPass> {
    let settled = 0;
    try {
      for (const listed of this.store.dueRows(RETIREMENTS_PER_PASS)) {
        const due = this.store.dueRow(listed.row.id);
        if (due === undefined) continue;
        const result = await retireSuperseded(due.row, {
          ...this.parts,
          mayYetBeCreated: due.inUnansweredBundle,
          stillDue: () => this.store.dueRow(due.row.id) !== undefined,
        });
        if ('wait' in result) {
          const afterMs = Math.min(MAX_WAIT_MS, this.parts.retryMs * 2 ** due.tries);
          this.store.postpone(due, result.wait, afterMs);
        } else if (this.store.settle(due, result.outcome, result.detail)) {
          settled++;
        }
      }
    } catch (err) {
      return { settled, failure: err };
    }
    return { settled };
  }
}
