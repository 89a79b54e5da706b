/**
 * A device of an air-gapped line moved from an individual enrollment to a symmetric-key group
 * under the same registration ID: DPS takes the device to an individual enrollment of its ID
 * before any group, so the bundle carries the earlier one's deletion, the office machine deletes
 * it before it confirms the member, and the line takes the member as synced only once nothing of
 * the kind blocks it. Real parts: the line's station database and CA, the real bundle commands
 * and sealed files, the DPS emulator over HTTPS on 127.0.0.1, a device registering with it.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { deriveDeviceKey } from '../../dps/auth/sas.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { keys } from '../cli/keysCommand.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import type { BundlePayload } from './bundlePayload.js';
import { sealPayload } from './bundleSeal.js';
import { airGapGroupLine, BUNDLE_PASSPHRASE } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const GROUP_KEY = randomBytes(64).toString('base64');
const gap = airGapGroupLine(GROUP_KEY);
let line: SyncTestStation;
let emulator: DpsEmulator;
beforeEach(() => ({ line, emulator } = gap));
const { exportTo, syncOnline, receive, openedBundle, inDps } = bundleCommandsOn(gap);

function dpsClient(): DpsServiceClient {
  return new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
}

function retirementOf(id: number): unknown {
  return line.db.prepare(`SELECT retirement FROM enrollments WHERE id = ?`).pluck().get(id);
}

const retiredEvents = () => line.store.audit('enrollment.retired');
const memberRegisters = async () =>
  (await registerDevice(emulator, 'reg-sn1', { key: deriveDeviceKey(GROUP_KEY, 'reg-sn1') })).final
    ?.status === 200;

/**
 * The group "gadgets" in DPS with the line's key, SN1's X.509 enrollment under reg-sn1 taken to
 * DPS by a first bundle, then SN1 provisioned again as a member of the group under reg-sn1.
 */
async function movedToGroup(): Promise<{ first: number; member: number }> {
  expect(await keys(['set-group', '--group', 'gadgets', '--data-dir', line.dir])).toBe(0);
  await gap.createGroupInDps('gadgets');
  const first = gap.provisionX509('SN1');
  expect(await exportTo('first.bundle')).toBe(0);
  expect(await syncOnline('first.bundle')).toBe(0);
  expect(await receive('first.bundle')).toBe(0);
  const member = line.provisionGroupMember('SN1', 'gadgets');
  expect(line.row(member).registrationId).toBe('reg-sn1');
  expect(retirementOf(first)).toBe('due');
  return { first, member };
}

/** Someone else puts another key on `registrationId`'s individual enrollment in DPS (If-Match). */
async function rekeyedInDps(registrationId: string): Promise<void> {
  const dps = dpsClient();
  try {
    const held = await dps.getEnrollment(registrationId);
    await dps.createOrUpdateEnrollment(
      {
        registrationId,
        attestation: {
          type: 'symmetricKey',
          symmetricKey: { primaryKey: randomBytes(32).toString('base64') },
        },
        provisioningStatus: 'enabled',
      },
      held!.etag,
    );
  } finally {
    dps.close();
  }
}

describe('a device moved to an enrollment group under the same ID, across the air gap', () => {
  it('deletes the earlier individual enrollment before the member is confirmed', async () => {
    const { first, member } = await movedToGroup();
    expect(await memberRegisters()).toBe(false);

    expect(await exportTo('second.bundle')).toBe(0);
    expect((await openedBundle('second.bundle')).retirements).toEqual([
      expect.objectContaining({ id: first, heldByGroup: true }),
    ]);
    gap.output.length = 0;
    expect(await syncOnline('second.bundle')).toBe(0);
    expect(gap.output.join('\n')).toContain(
      'Retired in DPS: 0 disabled, 1 deleted (a group member uses the ID), 0 not there',
    );
    expect(await inDps('reg-sn1')).toBeUndefined();
    expect(await receive('second.bundle')).toBe(0);
    expect(retirementOf(first)).toBe('absent');
    expect(retiredEvents()).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ how: 'deleted in DPS' }) }),
    ]);
    expect(line.row(member).status).toBe('synced');
    expect(await memberRegisters()).toBe(true);
  });

  it('answers the member as a conflict when the individual enrollment there is not ours', async () => {
    const { first, member } = await movedToGroup();
    // Someone re-keyed reg-sn1 in DPS: no longer the line's to delete.
    await rekeyedInDps('reg-sn1');

    expect(await exportTo('second.bundle')).toBe(0);
    expect(await syncOnline('second.bundle')).toBe(1);
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    await receive('second.bundle');
    expect(retirementOf(first)).toBe('not-ours');
    expect(line.row(member)).toMatchObject({ status: 'conflict', lastErrorCode: 'SYNC_CONFLICT' });
    expect(line.row(member).lastError).toContain('before its enrollment group');

    // As the conflict advises: that record removed from DPS, the member requeued. The line
    // looks at the ID again through the next bundle, and the member goes.
    const office = dpsClient();
    try {
      await office.deleteEnrollment('reg-sn1');
    } finally {
      office.close();
    }
    expect(requeueEnrollments(line.db, { status: 'conflict', supervisor: 'ana' })).toEqual([
      'reg-sn1',
    ]);
    expect(retirementOf(first)).toBe('due');
    expect(await exportTo('third.bundle')).toBe(0);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(retirementOf(first)).toBe('absent');
    expect(line.row(member).status).toBe('synced');
    expect(await memberRegisters()).toBe(true);
  });

  it('has the office read again an earlier enrollment found another party’s before it confirms a pending member', async () => {
    const { first, member } = await movedToGroup();
    await rekeyedInDps('reg-sn1');
    // As an earlier trip left it when DPS went away after the office's read of reg-sn1: the
    // earlier row found another party's, the member still pending.
    line.db
      .prepare(`UPDATE enrollments SET retirement = 'not-ours', retired_at = ? WHERE id = ?`)
      .run(new Date().toISOString(), first);

    expect(await exportTo('second.bundle')).toBe(0);
    expect((await openedBundle('second.bundle')).retirements).toMatchObject([
      { id: first, heldByGroup: true },
    ]);
    expect(await syncOnline('second.bundle')).toBe(1);
    await receive('second.bundle');
    expect(line.row(member)).toMatchObject({ status: 'conflict', lastErrorCode: 'SYNC_CONFLICT' });
    expect(await memberRegisters()).toBe(false);
  });

  it('keeps the member pending when an earlier version disabled instead of deleting, and deletes through the next bundle', async () => {
    const { first, member } = await movedToGroup();
    expect(await exportTo('second.bundle')).toBe(0);
    // The same bundle as an earlier version of the station reads it: no `heldByGroup`.
    const bundle = await openedBundle('second.bundle');
    const earlier: BundlePayload = {
      ...bundle,
      retirements: bundle.retirements!.map(({ heldByGroup: _h, ...r }) => r),
    };
    const header = {
      kind: 'bundle' as const,
      bundleId: bundle.bundleId,
      writtenAt: bundle.createdAt,
    };
    const stick = new PassphraseKeyWrapper(BUNDLE_PASSPHRASE);
    writeFileSync(join(gap.dir, 'earlier.bundle'), await sealPayload(header, earlier, stick));
    expect(await syncOnline('earlier.bundle')).toBe(0);
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });

    await receive('earlier.bundle');
    // Disabled blocks the member all the same: the row stays due, the member pending.
    expect(retirementOf(first)).toBe('due');
    expect(line.row(member)).toMatchObject({
      status: 'pending',
      lastErrorCode: 'SYNC_INDIVIDUAL_ENROLLMENT_FIRST',
    });
    expect(await memberRegisters()).toBe(false);

    // The next bundle carries both again; this version deletes, then confirms the member.
    expect(await exportTo('third.bundle')).toBe(0);
    expect((await openedBundle('third.bundle')).enrollments.map((e) => e.id)).toEqual([member]);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(retirementOf(first)).toBe('absent');
    expect(line.row(member).status).toBe('synced');
    expect(await memberRegisters()).toBe(true);
  });
});
