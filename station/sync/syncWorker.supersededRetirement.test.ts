import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealSecret } from '../../certs/custody/secretBox.js';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerDevice as registerWithClient } from '../../dps/device/registrationClient.js';
import { registerDevice } from '../../dps/emulator/emulatorTestKit.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import { ManualClock } from './testing/manualClock.js';
import { SyncTestStation } from './testing/syncTestStation.js';
import type { SyncWorker } from './syncWorker.js';

/**
 * A device re-provisioned under a new registration ID (its profile's template was edited)
 * leaves its earlier individual enrollment in DPS under the old ID; the sync worker disables it
 * there, once DPS shows it holds this station's credentials for it. Real parts: the DPS
 * emulator over HTTPS on 127.0.0.1 (a file store, so that it can be stopped and started again
 * on its port), the real DPS client, a real station database; symmetric keys, so that DPS's
 * record is compared through its attestation mechanism (GET withholds keys).
 */

let folder: string;
let emulator: DpsEmulator;
let station: SyncTestStation;
const clients: DpsServiceClient[] = [];
const storage = () => ({ file: join(folder, 'emulator.sqlite') });

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'retire-superseded-'));
  emulator = await startDpsEmulator({ storage: storage() });
  station = new SyncTestStation();
});
afterEach(async () => {
  await station.close();
  for (const client of clients.splice(0)) client.close();
  await emulator.close();
  rmSync(folder, { recursive: true, force: true });
});

function client(): DpsServiceClient {
  const connectionString = parseConnectionString(emulator.serviceConnectionString);
  const dps = new DpsServiceClient({ connectionString, ca: emulator.caCertificatePem });
  clients.push(dps);
  return dps;
}

function worker(): SyncWorker {
  return station.worker({ dps: client(), clock: new ManualClock(Date.now()) });
}

/** A symmetric-key PASS of `serial` under `registrationId`, its key sealed as the line seals it. */
async function provision(serial: string, registrationId: string, key = randomBytes(32)) {
  const context = symmetricKeySealContext(registrationId);
  const sealed = JSON.stringify(await sealSecret(key, station.wrapper, context));
  const id = station.provision(serial, {
    registrationId,
    attestation: 'symmetric-key-individual',
    certificateSerial: undefined,
    sealedSecret: sealed,
    enrollment: {
      registrationId,
      attestation: { type: 'symmetricKey', symmetricKey: {} },
      provisioningStatus: 'enabled',
    },
  });
  return { id, key: key.toString('base64') };
}

function retirement(id: number): { status: string; retirement: string | null; at: string | null } {
  return station.db
    .prepare(`SELECT status, retirement, retired_at AS at FROM enrollments WHERE id = ?`)
    .get(id) as { status: string; retirement: string | null; at: string | null };
}

const retiredEvents = () => station.store.audit('enrollment.retired');

/** The first PASS of SN1, synced to DPS under line7-sn1. */
async function firstSynced(sync: SyncWorker) {
  const first = await provision('SN1', 'line7-sn1');
  sync.start();
  await sync.syncNow();
  expect(station.row(first.id).status).toBe('synced');
  return first;
}

describe('the sync worker retires a superseded enrollment left under an old registration ID', () => {
  it('disables it in DPS, keeping its keys, and the new one stays enabled', async () => {
    const sync = worker();
    const first = await firstSynced(sync);
    const second = await provision('SN1', 'line7-v2-sn1');
    expect(retirement(first.id)).toEqual({ status: 'superseded', retirement: 'due', at: null });

    sync.notify();
    await sync.syncNow();

    const dps = client();
    expect(await dps.getEnrollment('line7-sn1')).toMatchObject({ provisioningStatus: 'disabled' });
    expect(await dps.getEnrollment('line7-v2-sn1')).toMatchObject({
      provisioningStatus: 'enabled',
    });
    // Disabled, not re-keyed: DPS still shows the supervisor whose enrollment it was.
    expect((await dps.getEnrollmentAttestation('line7-sn1')).symmetricKey?.primaryKey).toBe(
      first.key,
    );
    // Its device still attests (the key is kept), but DPS ends its registration disabled, with
    // no hub: the device stays out.
    const retired = await registerDevice(emulator, 'line7-sn1', { key: first.key });
    expect(retired.register.status).toBe(202);
    expect(retired.final?.body).toMatchObject({
      status: 'disabled',
      registrationState: { registrationId: 'line7-sn1', status: 'disabled' },
    });
    expect(
      (retired.final?.body as { registrationState: Record<string, unknown> }).registrationState,
    ).not.toHaveProperty('assignedHub');
    // The station's own device client calls that a failure that names the disabled enrollment.
    const failure = await registerWithClient({
      globalEndpoint: emulator.hostName,
      idScope: emulator.idScope,
      registrationId: 'line7-sn1',
      auth: { kind: 'symmetricKey', deviceKeyBase64: first.key },
      ca: emulator.caCertificatePem,
      maxPollDelayMs: 50,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ code: 'DPS_REGISTRATION_FAILED', status: 200 });
    expect((failure as { detail?: string }).detail).toMatch(/registration disabled/);
    expect(retirement(first.id)).toEqual({
      status: 'superseded',
      retirement: 'disabled',
      at: expect.any(String),
    });
    expect(station.row(second.id).status).toBe('synced');
    const events = retiredEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'station',
      subject: 'line7-sn1',
      detail: {
        enrollmentId: first.id,
        registrationId: 'line7-sn1',
        outcome: 'disabled',
        successorRegistrationId: 'line7-v2-sn1',
      },
    });
    // No key reaches the audit trail.
    expect(JSON.stringify(events)).not.toContain(first.key);

    // Nothing more to do at the next pass.
    await sync.syncNow();
    expect(retiredEvents()).toHaveLength(1);
  });

  it('leaves a re-provisioning under the same ID to the replace path: nothing is due', async () => {
    const sync = worker();
    const first = await firstSynced(sync);
    const second = await provision('SN1', 'line7-sn1');
    expect(retirement(first.id)).toEqual({ status: 'superseded', retirement: null, at: null });

    sync.notify();
    await sync.syncNow();

    expect(station.row(second.id)).toMatchObject({ status: 'synced', syncNote: 'replaced in DPS' });
    const record = await client().getEnrollment('line7-sn1');
    expect(record).toMatchObject({ provisioningStatus: 'enabled' });
    expect(retiredEvents()).toHaveLength(0);
  });

  it('never touches the old ID when DPS holds it with other credentials: not-ours', async () => {
    const sync = worker();
    const first = await firstSynced(sync);
    // Someone re-enrolled line7-sn1 in DPS with another key meanwhile.
    const dps = client();
    await dps.deleteEnrollment('line7-sn1');
    const theirs = await dps.createOrUpdateEnrollment({
      registrationId: 'line7-sn1',
      attestation: { type: 'symmetricKey', symmetricKey: {} },
    });
    await provision('SN1', 'line7-v2-sn1');

    sync.notify();
    await sync.syncNow();

    expect(retirement(first.id)).toMatchObject({ retirement: 'not-ours', at: expect.any(String) });
    const after = await dps.getEnrollment('line7-sn1');
    expect(after).toMatchObject({ provisioningStatus: 'enabled', etag: theirs.etag });
    expect(retiredEvents()[0]).toMatchObject({
      subject: 'line7-sn1',
      detail: { outcome: 'not-ours', dpsAttestation: 'symmetricKey' },
    });
  });

  it('records absent when DPS no longer holds the old ID', async () => {
    const sync = worker();
    const first = await firstSynced(sync);
    await client().deleteEnrollment('line7-sn1');
    await provision('SN1', 'line7-v2-sn1');

    sync.notify();
    await sync.syncNow();

    expect(retirement(first.id)).toMatchObject({ retirement: 'absent', at: expect.any(String) });
    expect(await client().getEnrollment('line7-sn1')).toBeUndefined();
    expect(retiredEvents()[0]).toMatchObject({ detail: { outcome: 'absent' } });
  });

  it('keeps the retirement due while DPS is out of reach, and settles it once DPS is back', async () => {
    const sync = worker();
    const first = await firstSynced(sync);
    const port = emulator.port;
    const second = await provision('SN1', 'line7-v2-sn1');
    // As a bundle receipt leaves it: the new enrollment is in DPS, only the retirement is left,
    // so that the retirement itself meets the refused connection.
    station.db.prepare(`UPDATE enrollments SET status = 'synced' WHERE id = ?`).run(second.id);
    await emulator.close();

    sync.notify();
    // Refused on a new connection; reset on one the client kept open from the first sync.
    await expect(sync.syncNow()).rejects.toMatchObject({
      code: expect.stringMatching(/^SYNC_(OFFLINE|DPS_CONNECTION_REFUSED)$/),
    });
    expect(sync.status()).toMatchObject({
      connection: 'offline',
      lastError: { code: expect.stringMatching(/^DPS_(UNREACHABLE|CONNECTION_REFUSED)$/) },
    });
    expect(retirement(first.id)).toMatchObject({ retirement: 'due', at: null });
    expect(retiredEvents()).toHaveLength(0);

    emulator = await startDpsEmulator({ storage: storage(), port });
    await sync.syncNow();
    expect(retirement(first.id)).toMatchObject({ retirement: 'disabled', at: expect.any(String) });
    expect(await client().getEnrollment('line7-sn1')).toMatchObject({
      provisioningStatus: 'disabled',
    });
    expect(sync.status().lastError).toBeUndefined();
    expect(retiredEvents()).toHaveLength(1);
  });

  it('has nothing to retire for a superseded row that was never sent', async () => {
    const first = await provision('SN1', 'line7-sn1');
    const second = await provision('SN1', 'line7-v2-sn1');
    expect(retirement(first.id)).toEqual({ status: 'superseded', retirement: null, at: null });

    const sync = worker();
    sync.start();
    await sync.syncNow();

    expect(station.row(second.id).status).toBe('synced');
    expect(await client().getEnrollment('line7-sn1')).toBeUndefined();
    expect(retirement(first.id).retirement).toBeNull();
    expect(retiredEvents()).toHaveLength(0);
  });
});
