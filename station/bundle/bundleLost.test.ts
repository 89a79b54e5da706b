/**
 * A bundle whose stick went missing before it was synced, declared lost (`bundle lost`): what
 * it carried goes in the next export, and a retirement stops waiting for its receipt; should
 * the stick turn up and be synced after all, its receipt sets right what that sync undid. Real
 * parts: the line's station database and CA, the real bundle commands and sealed files, the DPS
 * emulator over HTTPS on 127.0.0.1, a device registering with it.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { deriveDeviceKey } from '../../dps/auth/sas.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { keys } from '../cli/keysCommand.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { bundleCommand } from '../cli/bundleCommand.js';
import { dpsClientFor } from '../production/dpsConnection.js';
import { airGapGroupLine } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const GROUP_KEY = randomBytes(64).toString('base64');
const gap = airGapGroupLine(GROUP_KEY);
let line: SyncTestStation;
let emulator: DpsEmulator;
let output: string[];
beforeEach(() => ({ line, emulator, output } = gap));
const { exportTo, syncOnline, receive, declareLost, openedBundle, inDps } = bundleCommandsOn(gap);
const bundle = bundleCommand(dpsClientFor);

const retirementOf = (id: number): unknown =>
  line.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);
const memberRegisters = async () =>
  (await registerDevice(emulator, 'reg-sn1', { key: deriveDeviceKey(GROUP_KEY, 'reg-sn1') })).final
    ?.status === 200;

async function groupInDps(): Promise<void> {
  expect(await keys(['set-group', '--group', 'gadgets', '--data-dir', line.dir])).toBe(0);
  await gap.createGroupInDps('gadgets');
}

describe('bundle lost', () => {
  it('lets the next export carry what a lost bundle carried, and says so in the list', async () => {
    const first = gap.provisionX509('SN1');
    expect(await exportTo('lost.bundle')).toBe(0);
    await expect(exportTo('again.bundle')).rejects.toMatchObject({ code: 'BUNDLE_ALL_CARRIED' });

    output.length = 0;
    expect(await declareLost('lost.bundle')).toBe(0);
    const { bundleId } = await openedBundle('lost.bundle');
    expect(output.join('\n')).toMatch(
      new RegExp(
        `Bundle ${bundleId} \\(.*lost\\.bundle\\) is declared lost by ana\\.\\n1 pending enrollment\\(s\\) it carried go in the next export`,
      ),
    );
    expect(line.store.audit('outbox.bundle-lost')[0]).toMatchObject({
      actor: 'supervisor:ana',
      subject: bundleId,
      detail: { freed: 1, retirementsFreed: 0 },
    });

    expect(await exportTo('again.bundle')).toBe(0);
    expect((await openedBundle('again.bundle')).enrollments.map((e) => e.id)).toEqual([first]);
    output.length = 0;
    expect(await bundle(['list', '--data-dir', line.dir])).toBe(0);
    expect(output.join('\n')).toMatch(
      new RegExp(
        `${bundleId}  1 enrollment\\(s\\), 1 still pending; declared lost .* by ana; no receipt yet`,
      ),
    );

    // Said twice, it changes nothing; an ID this station never exported is refused by name.
    output.length = 0;
    expect(await declareLost('lost.bundle')).toBe(0);
    expect(output.join('\n')).toMatch(/was declared lost .* by ana; nothing changed/);
    expect(line.store.audit('outbox.bundle-lost')).toHaveLength(1);
    await expect(
      bundle(['lost', '0b5ad0c3-1b1e-4c43-9c0e-6a4f4b3e2a10', '--data-dir', line.dir]),
    ).rejects.toMatchObject({ code: 'BUNDLE_ID_UNKNOWN' });
  });

  it('ends a group member’s wait on a lost bundle, and deletes again what the bundle put in DPS when it turns up', async () => {
    await groupInDps();
    // SN1's individual enrollment leaves in a bundle that is never synced: the stick is lost.
    const earlier = gap.provisionX509('SN1');
    expect(await exportTo('lost.bundle')).toBe(0);
    const member = line.provisionGroupMember('SN1', 'gadgets');
    expect(retirementOf(earlier)).toBe('due');

    // DPS holds nothing under reg-sn1 yet, but the lost bundle may still create it there: the
    // member is not taken as synced on the office's word that nothing is there.
    expect(await exportTo('second.bundle')).toBe(0);
    expect(await syncOnline('second.bundle')).toBe(0);
    await receive('second.bundle');
    expect(retirementOf(earlier)).toBe('due');
    expect(line.row(member)).toMatchObject({
      status: 'pending',
      lastErrorCode: 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST',
    });

    output.length = 0;
    expect(await declareLost('lost.bundle')).toBe(0);
    expect(output.join('\n')).toMatch(
      /1 earlier enrollment\(s\) due to be disabled or deleted in DPS no longer wait for its receipt/,
    );
    expect(await exportTo('third.bundle')).toBe(0);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(retirementOf(earlier)).toBe('absent');
    expect(line.row(member).status).toBe('synced');
    expect(await memberRegisters()).toBe(true);

    // The stick turns up and someone syncs it: the individual enrollment is created in DPS, in
    // front of the group. Its receipt puts the deletion back on the list and the member waits.
    expect(await syncOnline('lost.bundle')).toBe(0);
    expect(await inDps('reg-sn1')).toMatchObject({ attestation: { type: 'x509' } });
    expect(await memberRegisters()).toBe(false);
    output.length = 0;
    await receive('lost.bundle');
    expect(output.join('\n')).toMatch(
      /1 enrollment\(s\) this station retired or revoked are back in DPS/,
    );
    expect(retirementOf(earlier)).toBe('due');
    expect(line.row(member)).toMatchObject({ status: 'pending', needsReconcile: 1 });
    expect(line.store.audit('enrollment.retirement-due-again')[0]).toMatchObject({
      subject: 'reg-sn1',
      detail: { enrollmentId: earlier, how: 'created' },
    });

    expect(await exportTo('fourth.bundle')).toBe(0);
    expect(await syncOnline('fourth.bundle')).toBe(0);
    expect(await receive('fourth.bundle')).toBe(0);
    expect(await inDps('reg-sn1')).toBeUndefined();
    expect(retirementOf(earlier)).toBe('absent');
    expect(line.row(member).status).toBe('synced');
    expect(await memberRegisters()).toBe(true);
  });

  // A device that keeps its credential (a TPM) re-provisioned under the same ID and a changed
  // profile while its first bundle was out: that bundle, synced late, wrote the first profile's
  // settings over the newer enrollment in DPS.
  it('reads the newer enrollment from DPS again when a late bundle wrote over it, and rewrites it', async () => {
    const enrollment = (line: string) => ({
      registrationId: 'reg-sn1',
      attestation: {
        type: 'x509' as const,
        x509: { clientCertificates: { primary: { certificate: emulator.caCertificatePem } } },
      },
      initialTwin: { tags: { line } },
    });
    line.provision('SN1', { registrationId: 'reg-sn1', enrollment: enrollment('A') });
    expect(await exportTo('lost.bundle')).toBe(0);
    const newer = line.provision('SN1', { registrationId: 'reg-sn1', enrollment: enrollment('B') });
    expect(await exportTo('second.bundle')).toBe(0);
    expect(await syncOnline('second.bundle')).toBe(0);
    expect(await receive('second.bundle')).toBe(0);
    expect(line.row(newer).status).toBe('synced');
    expect(await inDps('reg-sn1')).toMatchObject({ initialTwin: { tags: { line: 'B' } } });

    expect(await syncOnline('lost.bundle')).toBe(0);
    expect(await inDps('reg-sn1')).toMatchObject({ initialTwin: { tags: { line: 'A' } } });
    await receive('lost.bundle');
    expect(line.row(newer)).toMatchObject({ status: 'pending', needsReconcile: 1 });

    expect(await exportTo('third.bundle')).toBe(0);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(line.row(newer)).toMatchObject({
      status: 'synced',
      syncNote: expect.stringMatching(/replaced in DPS/),
    });
    expect(await inDps('reg-sn1')).toMatchObject({ initialTwin: { tags: { line: 'B' } } });
  });

  it('refuses a bundle whose export stopped before its file was written: it carries nothing', async () => {
    // What a crash between recording a bundle and writing its file leaves (bundleExport.ts).
    const id = '6d1f3c1e-2a4b-4c5d-8e9f-0a1b2c3d4e5f';
    line.db
      .prepare(`INSERT INTO bundles (id, created_at, file, enrollments) VALUES (?, ?, ?, 1)`)
      .run(id, new Date().toISOString(), '/media/stick/cut.bundle');
    await expect(bundle(['lost', id, '--data-dir', line.dir])).rejects.toMatchObject({
      code: 'BUNDLE_NOT_WRITTEN',
    });
    expect(line.store.audit('outbox.bundle-lost')).toEqual([]);
  });
});
