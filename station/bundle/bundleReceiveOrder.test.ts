/**
 * Two bundles synced at the office in one order and their receipts received on the line in the
 * other: bundle A carries an enrollment, the line then revokes or supersedes it, bundle B carries
 * its disable or retirement; B is synced first (DPS holds nothing: "absent"), then A (DPS creates
 * the enrollment, enabled). A's receipt comes back first, while the disable is still due, and
 * B's older "absent" after it. The line must not settle the row on B's answer: it stays due and
 * the next bundle disables what A put in DPS. Real parts: the line's station database, the real
 * `bundle export` / `bundle sync` / `bundle receive` commands, the DPS emulator on 127.0.0.1.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { revokeCertificateOf } from '../store/testing/provisioningFixtures.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { airGapGroupLine } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const gap = airGapGroupLine();
let line: SyncTestStation;
beforeEach(() => ({ line } = gap));
const { exportTo, syncOnline, receive, inDps } = bundleCommandsOn(gap);

const disableOf = (id: number) =>
  line.db.prepare(`SELECT state FROM revocation_disables WHERE enrollment_id = ?`).pluck().get(id);
const retirementOf = (id: number) =>
  line.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);

/** A synced before B, whose receipts come back in `order`. */
async function crossedBundles(order: 'A first' | 'B first'): Promise<void> {
  expect(await syncOnline('b.bundle')).toBe(0); // DPS holds nothing yet: "absent"
  expect(await syncOnline('a.bundle')).toBe(0); // creates the enrollment, enabled
  for (const name of order === 'A first' ? ['a.bundle', 'b.bundle'] : ['b.bundle', 'a.bundle']) {
    expect(await receive(name)).toBe(0);
  }
}

/** The next bundle, synced and received: what the line still owes DPS is done. */
async function nextBundleRound(): Promise<void> {
  expect(await exportTo('c.bundle')).toBe(0);
  expect(await syncOnline('c.bundle')).toBe(0);
  expect(await receive('c.bundle')).toBe(0);
}

describe('receipts received in another order than their bundles were synced', () => {
  it.each(['A first', 'B first'] as const)(
    'a revoked certificate: its disable stays due on a stale "absent" (%s), then is done',
    async (order) => {
      const revoked = gap.provisionX509('SN1');
      expect(await exportTo('a.bundle')).toBe(0);
      expect(revokeCertificateOf(line.db, revoked).outbox).toMatchObject({
        action: 'withheld-disabling',
      });
      expect(await exportTo('b.bundle')).toBe(0);
      await crossedBundles(order);
      expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
      expect(disableOf(revoked)).toBe('due');

      await nextBundleRound();
      expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
      expect(disableOf(revoked)).toBe('disabled');
    },
  );

  it('a superseded enrollment: its retirement stays due on a stale "absent", then is done', async () => {
    const first = gap.provisionX509('SN1');
    expect(await exportTo('a.bundle')).toBe(0);
    // The device provisioned again under another ID: the first enrollment is to be retired.
    gap.provisionX509('SN1', 'reg-v2-sn1');
    expect(retirementOf(first)).toBe('due');
    expect(await exportTo('b.bundle')).toBe(0);
    await crossedBundles('A first');
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    expect(retirementOf(first)).toBe('due');

    await nextBundleRound();
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(retirementOf(first)).toBe('disabled');
  });
});
