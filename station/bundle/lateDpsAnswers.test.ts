// A late receipt (a bundle synced after the station had deleted what it carried) puts an earlier
// individual enrollment back in front of a group member: what the member's row says about why
// it waits, and whether the deletion's settlement lets it go (retirementStore.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxSyncStore, type Settlement } from '../sync/outboxSyncStore.js';
import { RetirementStore } from '../sync/retirementStore.js';
import type { SyncErrorCode } from '../sync/syncErrors.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import type { BundlePayload } from './bundlePayload.js';
import { ReceiptTestKit, answer, receipt, synced } from './testing/receiptTestKit.js';

let kit: ReceiptTestKit;
let station: SyncTestStation;
let worker: OutboxSyncStore;
let retirements: RetirementStore;

beforeEach(() => {
  kit = new ReceiptTestKit();
  station = kit.station;
  worker = new OutboxSyncStore(station.db, () => station.clock.now());
  retirements = new RetirementStore(station.db, () => station.clock.now());
});
afterEach(() => kit.close());

const AN_HOUR = 3_600_000;

/**
 * SN1's individual enrollment leaves in a bundle; SN1 is provisioned again as a group member
 * under the same ID, and the station deletes the earlier one from DPS before the bundle's
 * receipt comes back.
 */
async function memberAfterDeletion(): Promise<{
  bundle: BundlePayload;
  earlier: number;
  member: number;
}> {
  const earlier = station.provision('SN1');
  const bundle = await kit.exported();
  const member = station.provisionGroupMember('SN1', 'gadgets');
  settleDeletion(earlier);
  return { bundle, earlier, member };
}

function settleDeletion(earlier: number): void {
  const due = retirements.dueRow(earlier);
  expect(due).toBeDefined();
  expect(retirements.settle(due!, 'absent', {})).toBe(true);
}

/** The sync worker's answer for the member, as it records it. */
function workerSettles(member: number, settlement: Settlement): void {
  const [claimed] = worker.claim(1);
  expect(claimed?.id).toBe(member);
  expect(worker.settle([[claimed!, settlement]])).toBe(1);
}

function waitsFor(code: SyncErrorCode, detail: string): Settlement {
  return { kind: 'retry', code, detail, at: station.clock.now() + AN_HOUR, reconcile: false };
}

/** The bundle was synced after all: DPS created the earlier individual enrollment again. */
function lateReceipt(bundle: BundlePayload, earlier: number): void {
  kit.apply(receipt(bundle, [answer(bundle, earlier, 1, synced)]));
  expect(retirementOf(earlier)).toBe('due');
}

function retirementOf(id: number): unknown {
  return station.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);
}

describe('a late receipt in front of a group member', () => {
  it('keeps the code and wait of a member held back for another reason', async () => {
    const { bundle, earlier, member } = await memberAfterDeletion();
    workerSettles(member, waitsFor('SYNC_GROUP_KEY_UNAVAILABLE', 'station is locked'));
    const before = station.row(member);

    lateReceipt(bundle, earlier);

    expect(station.row(member)).toMatchObject({
      status: 'pending',
      lastErrorCode: 'SYNC_GROUP_KEY_UNAVAILABLE',
      lastError: 'station is locked',
      nextAttemptAt: before.nextAttemptAt,
    });
    // The deletion does not cut a wait it did not cause.
    settleDeletion(earlier);
    expect(station.row(member).nextAttemptAt).toBe(before.nextAttemptAt);
  });

  it('says a member taken back from synced waits for the deletion', async () => {
    const { bundle, earlier, member } = await memberAfterDeletion();
    workerSettles(member, { kind: 'synced', how: 'confirmed-by-group' });

    lateReceipt(bundle, earlier);

    expect(station.row(member)).toMatchObject({
      status: 'pending',
      needsReconcile: 1,
      lastErrorCode: 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST',
      lastError: expect.stringMatching(/a bundle synced late/),
    });
  });

  it('gives a member already waiting for a deletion the late bundle as its reason, and lets it go once deleted', async () => {
    const { bundle, earlier, member } = await memberAfterDeletion();
    // The worker's batch read the deletion as still due just before it settled.
    workerSettles(member, waitsFor('SYNC_INDIVIDUAL_ENROLLMENT_FIRST', 'not deleted yet'));

    lateReceipt(bundle, earlier);

    expect(station.row(member)).toMatchObject({
      lastErrorCode: 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST',
      lastError: expect.stringMatching(/a bundle synced late/),
      nextAttemptAt: expect.any(String),
    });
    settleDeletion(earlier);
    expect(station.row(member).nextAttemptAt).toBeNull();
  });
});
