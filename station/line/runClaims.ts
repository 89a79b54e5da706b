import { RunError, runErrorText } from './runErrors.js';

/** What a run claims once it has derived it: the registration ID, and its TPM's EK if any. */
export interface RunIdentity {
  registrationId: string;
  /** SHA-256 (hex) of the TPM's endorsement key, for a run that read one. */
  ekSha256?: string;
}

/** Claims `identity` for the run; returns the release, which the run calls however it ends. */
export type ClaimIdentity = (identity: RunIdentity) => () => void;

/** Who holds a claim: an object of its own per run, so a release frees only its own claims. */
interface Holder {
  slot: number;
}

/**
 * The registration IDs and TPM EKs the line's runs in flight hold, line-wide. The duplicate
 * policy asks the store, which knows only what passed: two boards with the same ID on two slots
 * at once (cloned-serial firmware, serials that render to one ID) would both pass that check,
 * both reach COMMIT on the device, and the store would refuse the second at its commit, leaving
 * a device holding an identity nobody recorded. With a claim, the second run fails at validate,
 * before anything is written to its device, as it would have, one after the other, by the policy.
 *
 * One Map lookup per key: the per-device path stays cheap (the line bench measures its CPU).
 */
export class RunClaims {
  private readonly registrationIds = new Map<string, Holder>();
  private readonly endorsementKeys = new Map<string, Holder>();

  /**
   * Claims `identity` for a run on `slot`, all or nothing; throws RUN_REGISTRATION_ID_ON_ANOTHER_SLOT
   * or RUN_EK_ON_ANOTHER_SLOT, naming the slot whose run holds it, when another run does.
   */
  claim(slot: number, identity: RunIdentity): () => void {
    const { registrationId, ekSha256 } = identity;
    // The EK first: with an `{ek}` template one TPM on two boards also makes one ID, and the
    // TPM, not a serial, is then what the technician must look into.
    const byEk = ekSha256 === undefined ? undefined : this.endorsementKeys.get(ekSha256);
    if (byEk !== undefined) {
      throw onAnotherSlot('RUN_EK_ON_ANOTHER_SLOT', byEk.slot, `EK SHA-256 ${ekSha256}`);
    }
    const byId = this.registrationIds.get(registrationId);
    if (byId !== undefined) {
      throw onAnotherSlot('RUN_REGISTRATION_ID_ON_ANOTHER_SLOT', byId.slot, registrationId);
    }
    const holder: Holder = { slot };
    this.registrationIds.set(registrationId, holder);
    if (ekSha256 !== undefined) this.endorsementKeys.set(ekSha256, holder);
    return () => {
      if (this.registrationIds.get(registrationId) === holder) {
        this.registrationIds.delete(registrationId);
      }
      if (ekSha256 !== undefined && this.endorsementKeys.get(ekSha256) === holder) {
        this.endorsementKeys.delete(ekSha256);
      }
    };
  }

  /** How many registration IDs runs hold now (tests: every run released its claim). */
  get size(): number {
    return this.registrationIds.size;
  }
}

/**
 * The refusal, its text naming the slot that holds the claim: the technician may walk over and
 * compare the two boards' labels.
 */
function onAnotherSlot(
  code: 'RUN_REGISTRATION_ID_ON_ANOTHER_SLOT' | 'RUN_EK_ON_ANOTHER_SLOT',
  slot: number,
  what: string,
): RunError {
  return new RunError(code, `${what} is claimed by the run on slot ${slot}`, {
    message: runErrorText[code].replace(/^Another slot/, `Slot ${slot}`),
  });
}
