/**
 * The retirement of a superseded symmetric-key enrollment through outbox bundles: its key
 * travels only inside the sealed bundle, as a pending row's does, so that the office machine
 * can compare DPS's record (whose key DPS withholds on GET) with it; the receipt and the audit
 * trail never hold it. Real parts: a station database, sealed bundle files, the DPS emulator
 * over HTTPS on 127.0.0.1 with the real DPS client.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealSecret } from '../../certs/custody/secretBox.js';
import { findNeedles, secretEncodings } from '../../certs/testing/secretNeedles.js';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportBundle } from './bundleExport.js';
import { applyReceipt } from './bundleReceive.js';
import { syncBundle } from './bundleSync.js';
import { bundleWrapper, exportRequest, openBundle } from './testing/exportTestKit.js';

let line: SyncTestStation;
let emulator: DpsEmulator;
let dps: DpsServiceClient;
let office: string;

beforeEach(async () => {
  line = new SyncTestStation();
  emulator = await startDpsEmulator({});
  dps = new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
  office = mkdtempSync(join(tmpdir(), 'retire-office-'));
});
afterEach(async () => {
  dps.close();
  await line.close();
  await emulator.close();
  rmSync(office, { recursive: true, force: true });
});

/** Export, office sync, receive: one trip of a bundle; returns its file and the receipt. */
async function trip(name: string) {
  const file = join(line.dir, name);
  await exportBundle(exportRequest(line, file));
  const payload = await openBundle(file);
  const synced = await syncBundle({
    dataDir: office,
    payload,
    wrapper: bundleWrapper,
    dps,
    dpsHost: emulator.hostName,
  });
  const applied = applyReceipt(line.db, synced.receipt, 'supervisor:sam');
  return { file, payload, ...synced, applied };
}

/** A symmetric-key PASS of SN1 under `registrationId`, its key sealed as the line seals it. */
async function provision(registrationId: string, key: Buffer): Promise<number> {
  const sealed = await sealSecret(key, line.wrapper, symmetricKeySealContext(registrationId));
  return line.provision('SN1', {
    registrationId,
    attestation: 'symmetric-key-individual',
    certificateSerial: undefined,
    sealedSecret: JSON.stringify(sealed),
    enrollment: {
      registrationId,
      attestation: { type: 'symmetricKey', symmetricKey: {} },
      provisioningStatus: 'enabled',
    },
  });
}

describe('a superseded symmetric-key enrollment retired through a bundle', () => {
  it('carries its key sealed, disables it in DPS and keeps the key out of receipt and audit', async () => {
    const oldKey = randomBytes(32);
    const first = await provision('reg-sn1', oldKey);
    expect((await trip('first.bundle')).applied.synced).toBe(1);
    await provision('reg-v2-sn1', randomBytes(32));

    const second = await trip('second.bundle');

    const needles = secretEncodings('the old key', oldKey);
    expect(second.payload.retirements?.[0]).toMatchObject({
      id: first,
      symmetricKey: oldKey.toString('base64'),
    });
    expect(findNeedles('bundle', readFileSync(second.file), needles)).toEqual([]);
    expect(second.receipt.retirements).toEqual([
      expect.objectContaining({ enrollmentId: first, outcome: 'disabled' }),
    ]);
    expect(second.summary.retirements).toEqual({
      disabled: 1,
      deleted: 0,
      absent: 0,
      notOurs: 0,
      due: 0,
    });
    expect(findNeedles('receipt', Buffer.from(JSON.stringify(second.receipt)), needles)).toEqual(
      [],
    );
    expect(await dps.getEnrollment('reg-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    // Disabled, not re-keyed.
    expect((await dps.getEnrollmentAttestation('reg-sn1')).symmetricKey?.primaryKey).toBe(
      oldKey.toString('base64'),
    );
    expect(second.applied.retired).toBe(1);
    const events = line.store.audit('enrollment.retired');
    expect(events).toMatchObject([{ subject: 'reg-sn1', detail: { outcome: 'disabled' } }]);
    expect(findNeedles('audit', Buffer.from(JSON.stringify(events)), needles)).toEqual([]);
  });

  it('leaves another party’s record under the old ID alone: not-ours', async () => {
    const first = await provision('reg-sn1', randomBytes(32));
    await trip('first.bundle');
    await dps.deleteEnrollment('reg-sn1');
    const theirs = await dps.createOrUpdateEnrollment({
      registrationId: 'reg-sn1',
      attestation: { type: 'symmetricKey', symmetricKey: {} },
    });
    await provision('reg-v2-sn1', randomBytes(32));

    const second = await trip('second.bundle');

    expect(second.summary.retirements).toEqual({
      disabled: 0,
      deleted: 0,
      absent: 0,
      notOurs: 1,
      due: 0,
    });
    expect(await dps.getEnrollment('reg-sn1')).toMatchObject({
      provisioningStatus: 'enabled',
      etag: theirs.etag,
    });
    expect(line.store.audit('enrollment.retired')).toMatchObject([
      { detail: { enrollmentId: first, outcome: 'not-ours', dpsAttestation: 'symmetricKey' } },
    ]);
  });
});
