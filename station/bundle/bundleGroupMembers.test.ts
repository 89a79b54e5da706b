/**
 * Symmetric-key group members across the air gap, as a supervisor runs it: `keys set-group`,
 * `bundle export` on the line, `bundle sync` on a machine that reaches the DPS emulator over
 * HTTPS, `bundle receive` back on the line. Real CA, real station databases, real sealed files.
 * The receipt said "1 synced" for a member whose group DPS did not hold, while the sync stopped
 * on refused credentials, and the line then showed it synced: a member is synced only once DPS
 * showed its group with the line's key, and stays pending while DPS cannot be asked.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { deriveDeviceKey } from '../../dps/auth/sas.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { keys } from '../cli/keysCommand.js';
import { requeueEnrollments } from '../sync/outboxRequeue.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { airGapGroupLine } from './testing/airGapGroupLine.js';
import { bundleCommandsOn } from './testing/bundleCommands.js';
import { syncBundle } from './bundleSync.js';
import { bundle as groupBundle, groupRow, wrapper } from './testing/bundleSyncTestKit.js';

const GROUP_KEY = randomBytes(64).toString('base64');
const gap = airGapGroupLine(GROUP_KEY);
let line: SyncTestStation;
let emulator: DpsEmulator;
let output: string[];
beforeEach(() => ({ line, emulator, output } = gap));
const office = () => gap.office;
const provisionX509 = (serial: string) => gap.provisionX509(serial);
const { exportTo, syncOnline, receive } = bundleCommandsOn(gap);

describe('group members through an outbox bundle, against the DPS emulator', () => {
  it('stays pending on refused credentials, fails on a missing group, and is synced once DPS shows it', async () => {
    expect(await keys(['set-group', '--group', 'gadgets', '--data-dir', line.dir])).toBe(0);
    const member = line.provisionGroupMember('G1', 'gadgets');
    const x509 = provisionX509('X1');
    expect(await exportTo('line7.bundle')).toBe(0);

    // The office machine's connection string carries a wrong key: DPS refuses every call.
    gap.refuseOfficeKey();
    output.length = 0;
    expect(await syncOnline('line7.bundle')).toBe(1);
    const refused = output.join('\n');
    expect(refused).toContain('[SYNC_CREDENTIALS_REFUSED]');
    expect(refused).not.toMatch(/\b[1-9]\d* synced\b/);
    expect(await receive('line7.bundle')).toBe(1);
    expect(line.row(member)).toMatchObject({ status: 'pending', syncedAt: null });
    expect(line.store.audit('enrollment.synced')).toEqual([]);

    // The right key, but DPS holds no group "gadgets": the member fails with its own code.
    vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
    expect(await syncOnline('line7.bundle')).toBe(1);
    expect(await receive('line7.bundle')).toBe(1);
    expect(line.row(x509)).toMatchObject({ status: 'synced' });
    expect(line.row(member)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_GROUP_MISSING',
      lastError: expect.stringContaining('create enrollment group gadgets in DPS'),
    });

    // The supervisor creates the group with the line's key and requeues; the next bundle goes.
    await gap.createGroupInDps('gadgets');
    expect(requeueEnrollments(line.db, { status: 'failed', supervisor: 'sam' })).toEqual([
      'reg-g1',
    ]);
    expect(await exportTo('line7-again.bundle')).toBe(0);
    expect(await syncOnline('line7-again.bundle')).toBe(0);
    expect(await receive('line7-again.bundle')).toBe(0);
    expect(line.row(member)).toMatchObject({
      status: 'synced',
      syncNote: expect.stringMatching(
        /^synced through bundle \S+ \(confirmed by enrollment group gadgets in DPS/,
      ),
    });
    expect(line.store.audit('enrollment.synced')[0]).toMatchObject({
      subject: 'reg-g1',
      detail: { how: 'confirmed-by-group' },
    });
    const registered = await registerDevice(emulator, 'reg-g1', {
      key: deriveDeviceKey(GROUP_KEY, 'reg-g1'),
    });
    expect(registered.final?.status).toBe(200);
  });

  it('leaves members of a bundle that carries no group key fingerprint pending, at once, saying why', async () => {
    // A bundle an earlier version exported: nothing to compare DPS's group keys with.
    const payload = groupBundle([groupRow(1, 'G1', 'gadgets')]);
    const dps = new DpsServiceClient({
      connectionString: parseConnectionString(emulator.serviceConnectionString),
      ca: emulator.caCertificatePem,
    });
    try {
      const started = Date.now();
      const { receipt, summary } = await syncBundle({
        dataDir: office(),
        payload,
        wrapper,
        dps,
        dpsHost: emulator.hostName,
      });
      // Not the 10 minutes a wait for DPS may last: no wait brings the fingerprint.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(summary).toMatchObject({
        synced: 0,
        pending: 1,
        lastError: { code: 'SYNC_GROUP_KEY_UNAVAILABLE' },
      });
      expect(receipt.results).toEqual([
        expect.objectContaining({
          outcome: 'pending',
          code: 'SYNC_GROUP_KEY_UNAVAILABLE',
          detail: expect.stringContaining(
            'the bundle carries no fingerprint of the key of enrollment group gadgets',
          ),
        }),
      ]);
      expect(emulator.stats().operations).toBe(0);
    } finally {
      dps.close();
    }
  });
});
