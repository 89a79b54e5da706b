import {
  retireSuperseded,
  settleDueRows,
  type RetirementParts,
  type RetirementPass,
} from './supersededRetirement.js';
import { RevocationDisableStore } from './revocationDisableStore.js';

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

  /** Disables what is due, as settleDueRows passes over it. */
  async run(): Promise<RetirementPass> {
    return settleDueRows(this.store, this.parts.retryMs, async (due) => {
      const retired = await retireSuperseded(due.row, {
        ...this.parts,
        mayYetBeCreated: due.inUnansweredBundle,
        stillDue: () => this.store.dueRow(due.row.id) !== undefined,
      });
      if ('wait' in retired || this.store.settle(due, retired.outcome, retired.detail)) {
        return retired;
      }
      return undefined;
    });
  }
}
