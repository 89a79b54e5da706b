/**
 * A certificate revoked on an air-gapped line whose enrollment reached DPS through an earlier
 * bundle: the next bundle carries its disable, the office machine disables DPS's record (only
 * because it holds that certificate), and the receipt settles it on the line. Real parts: the
 * line's station database and CA, the supervisor's ledger, the real `bundle export` / `bundle
 * sync` / `bundle receive` commands and sealed files, the DPS emulator over HTTPS on 127.0.0.1.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { revokeCertificateOf } from '../store/testing/provisioningFixtures.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportBundle } from './bundleExport.js';
import { airGapGroupLine, BUNDLE_PASSPHRASE } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const gap = airGapGroupLine();
let line: SyncTestStation;
let output: string[];
let dir: string;
beforeEach(() => ({ line, output, dir } = gap));
const { exportTo, syncOnline, receive, openedBundle, inDps, declareLost } = bundleCommandsOn(gap);

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

  // Read as pending, then revoked in another terminal while the export sealed its file: the
  // revocation withheld it as never sent, and the bundle took it to DPS all the same.
  it('writes no bundle that carries a row revoked while the export ran', async () => {
    const revoked = gap.provisionX509('SN1');
    const real = new PassphraseKeyWrapper(BUNDLE_PASSPHRASE);
    const wrapper = Object.assign(Object.create(real) as PassphraseKeyWrapper, {
      wrap: async (key: Buffer) => {
        expect(revokeCertificateOf(line.db, revoked).outbox).toMatchObject({ action: 'withheld' });
        return real.wrap(key);
      },
    });
    const file = join(dir, 'raced.bundle');
    await expect(
      exportBundle({
        db: line.db,
        file,
        wrapper,
        caSecrets: () => Promise.reject(new Error('no symmetric key here')),
        actor: 'supervisor:sam',
        dataDir: line.dir,
      }),
    ).rejects.toMatchObject({ code: 'BUNDLE_OUTBOX_CHANGED' });
    expect(existsSync(file)).toBe(false);
    expect(line.db.prepare(`SELECT count(*) FROM bundles`).pluck().get()).toBe(0);
    // Nothing else to carry: the next export says so.
    await expect(exportTo('next.bundle')).rejects.toMatchObject({ code: 'BUNDLE_NOTHING_PENDING' });
  });

  // A bundle declared lost, then found and synced after the revocation's disable had settled
  // (DPS held nothing then): it created the revoked certificate's enrollment, enabled, and
  // nothing was left to disable it.
  it('disables it again when a late bundle put it back in DPS', async () => {
    const revoked = gap.provisionX509('SN1');
    expect(await exportTo('first.bundle')).toBe(0);
    expect(await declareLost('first.bundle')).toBe(0);
    expect(revokeCertificateOf(line.db, revoked).outbox).toMatchObject({
      action: 'withheld-disabling',
    });
    expect(await exportTo('second.bundle')).toBe(0);
    expect(await syncOnline('second.bundle')).toBe(0);
    expect(await receive('second.bundle')).toBe(0);
    expect(disableOf(revoked)).toBe('absent');

    // The lost stick turns up, and is synced.
    expect(await syncOnline('first.bundle')).toBe(0);
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    output.length = 0;
    expect(await receive('first.bundle')).toBe(0);
    expect(output.join('\n')).toContain(
      '1 enrollment(s) this station retired or revoked are back in DPS',
    );
    expect(disableOf(revoked)).toBe('due');
    expect(line.store.audit('enrollment.revocation-disable-due-again')).toMatchObject([
      { subject: 'reg-sn1', detail: { enrollmentId: revoked, how: 'created' } },
    ]);
    expect(line.row(revoked).status).toBe('failed');

    expect(await exportTo('third.bundle')).toBe(0);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(await receive('third.bundle')).toBe(0);
    expect(disableOf(revoked)).toBe('disabled');
  });
});
