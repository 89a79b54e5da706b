/**
 * A certificate revoked on an air-gapped line whose enrollment reached DPS through an earlier
 * bundle: the next bundle carries its disable, the office machine disables DPS's record (only
 * because it holds that certificate), and the receipt settles it on the line. Real parts: the
 * line's station database and CA, the supervisor's ledger, the real `bundle export` / `bundle
 * sync` / `bundle receive` commands and sealed files, the DPS emulator over HTTPS on 127.0.0.1.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { revokeCertificateOf } from '../store/testing/provisioningFixtures.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { airGapGroupLine } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const gap = airGapGroupLine();
let line: SyncTestStation;
let output: string[];
beforeEach(() => ({ line, output } = gap));
const { exportTo, syncOnline, receive, openedBundle, inDps } = bundleCommandsOn(gap);

function revoke(id: number): void {
  expect(revokeCertificateOf(line.db, id).outbox).toMatchObject({ id, action: 'disabling' });
}

const disableOf = (id: number) =>
  line.db
    .prepare(`SELECT state FROM revocation_disables WHERE enrollment_id = ?`)
    .pluck()
    .get(id) as string | undefined;

describe('a revoked certificate on an air-gapped line', () => {
  it('is disabled in DPS through the next bundle, and settled on the line by its receipt', async () => {
    const revoked = gap.provisionX509('SN1');
    const kept = gap.provisionX509('SN2');
    expect(await exportTo('first.bundle')).toBe(0);
    expect(await syncOnline('first.bundle')).toBe(0);
    expect(await receive('first.bundle')).toBe(0);
    expect(line.row(revoked).status).toBe('synced');

    revoke(revoked);
    // Nothing pending: the bundle carries the disable alone.
    output.length = 0;
    expect(await exportTo('second.bundle')).toBe(0);
    expect(output.join('\n')).toContain(
      'no enrollment goes in it; it carries 1 enrollment(s) whose certificate was revoked, to be disabled in DPS',
    );
    const carried = await openedBundle('second.bundle');
    expect(carried.retirements).toEqual([
      expect.objectContaining({ id: revoked, registrationId: 'reg-sn1' }),
    ]);
    output.length = 0;
    expect(await syncOnline('second.bundle')).toBe(0);
    expect(output.join('\n')).toContain('Retired in DPS: 1 disabled');
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(await inDps('reg-sn2')).toMatchObject({ provisioningStatus: 'enabled' });
    expect(disableOf(revoked)).toBe('due');

    expect(await receive('second.bundle')).toBe(0);
    expect(disableOf(revoked)).toBe('disabled');
    expect(line.row(revoked).status).toBe('synced');
    expect(line.row(kept).status).toBe('synced');
    const events = line.store.audit('enrollment.revocation-disabled');
    expect(events).toEqual([
      expect.objectContaining({
        subject: 'reg-sn1',
        actor: line.store.audit('outbox.bundle-received')[0]?.actor,
        detail: expect.objectContaining({
          enrollmentId: revoked,
          outcome: 'disabled',
          bundleId: carried.bundleId,
          through: 'bundle',
        }) as unknown,
      }),
    ]);
    // Settled: the next bundle carries it no more, and the receipt again settles nothing.
    expect(await receive('second.bundle')).toBe(0);
    expect(line.store.audit('enrollment.revocation-disabled')).toHaveLength(1);
  });
});
