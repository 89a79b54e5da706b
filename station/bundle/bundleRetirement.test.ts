/**
 * A device provisioned again under a new registration ID on an air-gapped line: its earlier
 * enrollment, which reached DPS through an earlier bundle, is disabled in DPS through the next
 * bundle, as the online worker disables it (station/sync/supersededRetirement.ts). Real parts:
 * the line's station database and CA, the real `bundle export` / `bundle sync` / `bundle
 * receive` commands and sealed files, the DPS emulator over HTTPS on 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { bundleCommand } from '../cli/bundleCommand.js';
import { dpsClientFor } from '../production/dpsConnection.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import type { BundlePayload } from './bundlePayload.js';
import { sealPayload } from './bundleSeal.js';
import { airGapGroupLine, BUNDLE_PASSPHRASE } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';

const gap = airGapGroupLine();
let line: SyncTestStation;
let emulator: DpsEmulator;
let dir: string;
let output: string[];
beforeEach(() => ({ line, emulator, dir, output } = gap));
const stickWrapper = new PassphraseKeyWrapper(BUNDLE_PASSPHRASE);
const { exportTo, syncOnline, receive, openedBundle, openedReceipt, inDps } = bundleCommandsOn(gap);

function retirementOf(id: number): { status: string; retirement: string | null } {
  return line.db.prepare(`SELECT status, retirement FROM enrollments WHERE id = ?`).get(id) as {
    status: string;
    retirement: string | null;
  };
}

/**
 * SN1's first enrollment (reg-sn1) taken to DPS by a first bundle, then SN1 provisioned again
 * under reg-v2-sn1 (its profile's template changed): reg-sn1 is due for retirement.
 */
async function reprovisionedAfterFirstBundle(): Promise<{ first: number; second: number }> {
  const first = gap.provisionX509('SN1');
  expect(await exportTo('first.bundle')).toBe(0);
  expect(await syncOnline('first.bundle')).toBe(0);
  expect(await receive('first.bundle')).toBe(0);
  expect(line.row(first).status).toBe('synced');
  const second = gap.provisionX509('SN1', 'reg-v2-sn1');
  expect(retirementOf(first)).toEqual({ status: 'superseded', retirement: 'due' });
  return { first, second };
}

const retiredEvents = () => line.store.audit('enrollment.retired');

/** Exports `name`, and writes it again as `as`, as an earlier version does: no `retirements`. */
async function withoutRetirements(name: string, as: string): Promise<void> {
  expect(await exportTo(name)).toBe(0);
  const { retirements: _r, ...earlier } = await openedBundle(name);
  const header = {
    kind: 'bundle' as const,
    bundleId: earlier.bundleId,
    writtenAt: earlier.createdAt,
  };
  writeFileSync(
    join(dir, as),
    await sealPayload(header, earlier satisfies BundlePayload, stickWrapper),
  );
}

describe('retiring a re-provisioned device’s earlier enrollment through outbox bundles', () => {
  it('disables the old registration ID in DPS and settles the row on receive', async () => {
    const { first, second } = await reprovisionedAfterFirstBundle();

    expect(await exportTo('second.bundle')).toBe(0);
    const carried = await openedBundle('second.bundle');
    expect(carried.retirements).toEqual([
      expect.objectContaining({
        id: first,
        registrationId: 'reg-sn1',
        successorRegistrationId: 'reg-v2-sn1',
      }),
    ]);
    output.length = 0;
    expect(await syncOnline('second.bundle')).toBe(0);
    expect(output.join('\n')).toContain(
      'Retired in DPS: 1 disabled, 0 not there, 0 not shown to be ours (left alone).',
    );
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(await inDps('reg-v2-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    // DPS answered, but the line has not heard it yet.
    expect(retirementOf(first).retirement).toBe('due');

    expect(await receive('second.bundle')).toBe(0);
    expect(retirementOf(first)).toEqual({ status: 'superseded', retirement: 'disabled' });
    expect(line.row(second).status).toBe('synced');
    const events = retiredEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      subject: 'reg-sn1',
      // In the name of whoever received the receipt, as its other events.
      actor: line.store.audit('outbox.bundle-received')[0]?.actor,
      detail: {
        enrollmentId: first,
        outcome: 'disabled',
        how: 'disabled in DPS',
        successorRegistrationId: 'reg-v2-sn1',
        bundleId: carried.bundleId,
        through: 'bundle',
      },
    });

    // The same receipt again settles nothing twice.
    expect(await receive('second.bundle')).toBe(0);
    expect(retiredEvents()).toHaveLength(1);
  });

  it('keeps the row due when the office cannot reach DPS, and retires it through the next bundle', async () => {
    const { first } = await reprovisionedAfterFirstBundle();
    expect(await exportTo('second.bundle')).toBe(0);

    // The office machine's connection string carries a wrong key: DPS refuses every call.
    gap.refuseOfficeKey();
    output.length = 0;
    expect(await syncOnline('second.bundle')).toBe(1);
    expect(output.join('\n')).toContain(
      'Retired in DPS: 0 disabled, 0 not there, 0 not shown to be ours (left alone); 1 still due',
    );
    expect((await openedReceipt('second.bundle')).retirements).toEqual([]);
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    await receive('second.bundle');
    expect(retirementOf(first).retirement).toBe('due');
    expect(retiredEvents()).toEqual([]);

    // The line goes on; its next bundle carries the retirement again.
    vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
    gap.provisionX509('SN2');
    expect(await exportTo('third.bundle')).toBe(0);
    expect((await openedBundle('third.bundle')).retirements?.map((r) => r.id)).toEqual([first]);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(retirementOf(first).retirement).toBe('disabled');
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(retiredEvents()).toHaveLength(1);
  });

  it('disables the old ID again when its first bundle, synced a second time elsewhere, enabled it', async () => {
    const { first } = await reprovisionedAfterFirstBundle();
    expect(await exportTo('second.bundle')).toBe(0);
    expect(await syncOnline('second.bundle')).toBe(0);
    expect(await receive('second.bundle')).toBe(0);
    expect(retirementOf(first).retirement).toBe('disabled');

    // The first stick, synced once more from another machine's data folder: that machine does
    // not know the enrollment was retired, finds it disabled in DPS and enables it.
    const bundle = bundleCommand(dpsClientFor);
    const elsewhere = join(dir, 'other-office');
    expect(await bundle(['sync', join(dir, 'first.bundle'), '--data-dir', elsewhere])).toBe(0);
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    output.length = 0;
    await receive('first.bundle');
    expect(output.join('\n')).toMatch(
      /1 enrollment\(s\) this station retired or revoked are back in DPS/,
    );
    expect(retirementOf(first).retirement).toBe('due');

    expect(await exportTo('third.bundle')).toBe(0);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(retirementOf(first).retirement).toBe('disabled');
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
  });

  it('carries retirements alone once nothing is pending, as a bundle of version 2', async () => {
    const { first, second } = await reprovisionedAfterFirstBundle();
    // An office machine of an earlier version syncs the new enrollment and not the retirement.
    await withoutRetirements('second.bundle', 'earlier.bundle');
    expect(await syncOnline('earlier.bundle')).toBe(0);
    expect(await receive('earlier.bundle')).toBe(0);
    expect(line.row(second).status).toBe('synced');
    expect(retirementOf(first).retirement).toBe('due');

    // Nothing is pending: the retirement goes alone.
    output.length = 0;
    expect(await exportTo('retire.bundle')).toBe(0);
    expect(output.join('\n')).toContain(
      'no enrollment goes in it; it carries 1 earlier enrollment(s) of re-provisioned devices, to be disabled in DPS under their old registration ID',
    );
    const alone = await openedBundle('retire.bundle');
    expect(alone).toMatchObject({ version: 2, enrollments: [], history: [] });
    expect(alone.retirements?.map((r) => r.id)).toEqual([first]);
    expect(
      line.db
        .prepare(`SELECT enrollments, retirements FROM bundles WHERE id = ?`)
        .get(alone.bundleId),
    ).toEqual({
      enrollments: 0,
      retirements: 1,
    });

    output.length = 0;
    expect(await syncOnline('retire.bundle')).toBe(0);
    expect(output.join('\n')).toContain('Retired in DPS: 1 disabled');
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    // Synced again on the same machine (as its advice says after any stop): its work goes on.
    expect(await syncOnline('retire.bundle')).toBe(0);
    expect(await receive('retire.bundle')).toBe(0);
    expect(retirementOf(first)).toEqual({ status: 'superseded', retirement: 'disabled' });
    expect(retiredEvents()).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ bundleId: alone.bundleId }) }),
    ]);

    // Nothing pending, nothing due: no bundle.
    await expect(exportTo('empty.bundle')).rejects.toMatchObject({
      code: 'BUNDLE_NOTHING_PENDING',
    });
  });

  it('refuses a bundle of a newer version by its version, not as damage', async () => {
    await reprovisionedAfterFirstBundle();
    expect(await exportTo('second.bundle')).toBe(0);
    const newer = { ...(await openedBundle('second.bundle')), version: 3 };
    writeFileSync(
      join(dir, 'newer.bundle'),
      await sealPayload(
        { kind: 'bundle', bundleId: newer.bundleId, writtenAt: newer.createdAt },
        newer,
        stickWrapper,
      ),
    );
    await expect(syncOnline('newer.bundle')).rejects.toMatchObject({
      code: 'BUNDLE_NEWER_VERSION',
      detail: 'bundle version 3; this station reads up to 2',
    });
  });

  it('syncs and receives a bundle of an earlier version (no retirements) as before', async () => {
    const { first, second } = await reprovisionedAfterFirstBundle();
    await withoutRetirements('second.bundle', 'earlier.bundle');

    output.length = 0;
    expect(await syncOnline('earlier.bundle')).toBe(0);
    expect(output.join('\n')).not.toContain('Retired in DPS');
    const receipt = await openedReceipt('earlier.bundle');
    expect(receipt).not.toHaveProperty('retirements');
    expect(receipt.results).toEqual([expect.objectContaining({ id: second, outcome: 'synced' })]);
    expect(await receive('earlier.bundle')).toBe(0);
    expect(line.row(second).status).toBe('synced');
    expect(retirementOf(first).retirement).toBe('due');
    expect(await inDps('reg-sn1')).toMatchObject({ provisioningStatus: 'enabled' });
    expect(retiredEvents()).toEqual([]);

    // This version's next bundle retires it.
    gap.provisionX509('SN2');
    expect(await exportTo('third.bundle')).toBe(0);
    expect(await syncOnline('third.bundle')).toBe(0);
    expect(await receive('third.bundle')).toBe(0);
    expect(retirementOf(first).retirement).toBe('disabled');
  });
});
