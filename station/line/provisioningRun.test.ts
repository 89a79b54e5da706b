import { execFile } from 'node:child_process';
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import type { StationCa } from '../../certs/stationCa.js';
import { opensslVerifyLeaf } from '../../test/e2e/opensslTools.js';
import { groupKeyFingerprint } from '../sync/groupKeyFingerprint.js';
import { symmetricKeySealContext } from './attestation/symmetricKey.js';
import { RUN_STEPS } from './lineTypes.js';
import {
  InMemoryRunRecorder,
  runOn,
  TEST_SCOPE,
  testCa,
  testProfile,
  testSealing,
  testServices,
  oneSimulatedDevicePerTest,
} from './testing/lineTestKit.js';

const REGISTRATION_ID = 'ls-demo-1-sim000001';
const DPS_SETTINGS = {
  globalEndpoint: 'global.azure-devices-provisioning.net',
  idScope: TEST_SCOPE,
  registrationId: REGISTRATION_ID,
};

const oneDevice = oneSimulatedDevicePerTest();

describe('provisioning runs by attestation mode, on a simulated device over a real pty', () => {
  it('x509-device-key: the leaf chains to the CA, CN = registration ID, DPS settings committed', async () => {
    const device = await oneDevice();
    const profile = testProfile({
      iotEdge: true,
      iotHubs: ['hub-a.azure-devices.net'],
      allocationPolicy: 'hashed',
      initialTwin: { tags: { line: 'a' }, desiredProperties: { interval: 5 } },
    });
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile),
    });

    expect(outcome.state).toBe('pass');
    expect(recorder.passes).toHaveLength(1);
    expect(recorder.failures).toHaveLength(0);
    // The run was opened with the board identify read: a crash from here on still names it.
    expect(recorder.runs[0]!.device).toEqual(recorder.passes[0]!.device);
    expect(recorder.runs[0]!.device?.serialNumber).toBe('SIM000001');
    const committed = device.state.committed;
    expect(committed.config).toEqual(DPS_SETTINGS);
    expect(device.state.staged).toEqual({ config: {} });
    const { ca } = await testCa();
    const chain = ca.chain();
    // Leaf and intermediates go to the device, not the root.
    expect(committed.certChain).toHaveLength(chain.length);
    const leaf = committed.certChain![0]!;
    const text = await opensslVerifyLeaf(leaf, chain);
    expect(text).toMatch(new RegExp(`Subject: CN ?= ?${REGISTRATION_ID}\\n`));

    const record = recorder.passes[0]!;
    const [issued] = await ca.list({ registrationId: REGISTRATION_ID });
    expect(record.certificateSerial).toBe(issued!.serialNumber);
    expect(record.attestation).toBe('x509-device-key');
    expect(record.steps.map((s) => s.step)).toEqual([...RUN_STEPS]);
    expect(record.enrollment).toEqual({
      registrationId: REGISTRATION_ID,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: certificateToPem(leaf) } } },
      },
      capabilities: { iotEdge: true },
      initialTwin: { tags: { line: 'a' }, properties: { desired: { interval: 5 } } },
      iotHubs: ['hub-a.azure-devices.net'],
      allocationPolicy: 'hashed',
      provisioningStatus: 'enabled',
    });
  });

  it('x509-station-key: the injected key matches the leaf and the station zeroes its copy', async () => {
    const device = await oneDevice();
    const profile = testProfile({ attestation: { mode: 'x509-station-key', curve: 'P-384' } });
    const real = (await testCa()).ca;
    let keyCopy: Buffer | undefined;
    const ca: StationCa = Object.assign(Object.create(real) as StationCa, {
      issueWithStationKey: async (options: Parameters<StationCa['issueWithStationKey']>[0]) => {
        const issued = await real.issueWithStationKey(options);
        keyCopy = issued.privateKeyPkcs8;
        expect(keyCopy.some((b) => b !== 0)).toBe(true);
        return issued;
      },
    });
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile, { ca }),
    });

    expect(outcome.state).toBe('pass');
    expect(keyCopy?.every((b) => b === 0)).toBe(true);
    const committed = device.state.committed;
    expect(committed.identityKey?.curve).toBe('P-384');
    const devicePublic = createPublicKey(
      createPrivateKey({
        key: Buffer.from(committed.identityKey!.pkcs8),
        format: 'der',
        type: 'pkcs8',
      }),
    ).export({ format: 'der', type: 'spki' });
    const leaf = new X509Certificate(committed.certChain![0]!);
    expect(leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(devicePublic)).toBe(true);
    expect(leaf.subject).toBe(`CN=${REGISTRATION_ID}`);
    expect(committed.config).toEqual(DPS_SETTINGS);
  });

  it('x509-station-key needs the injection feature: RUN_CAPABILITY_MISSING, nothing staged', async () => {
    const device = await oneDevice({ features: { keyInjection: false } });
    const profile = testProfile({ attestation: { mode: 'x509-station-key' } });
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile),
    });
    expect(outcome.state === 'fail' && outcome.error.code).toBe('RUN_CAPABILITY_MISSING');
    expect(device.state.staged).toEqual({ config: {} });
    expect(recorder.failures[0]).toMatchObject({
      state: 'fail',
      device: { serialNumber: 'SIM000001', model: 'LS-DEMO-1' },
    });
  });

  it('symmetric-key-individual: the device holds the unsealed key; the enrollment has none in clear', async () => {
    const device = await oneDevice();
    const profile = testProfile({ attestation: { mode: 'symmetric-key-individual' } });
    const sealing = testSealing();
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile, { sealSecret: sealing.seal }),
    });

    expect(outcome.state).toBe('pass');
    const record = recorder.passes[0]!;
    const deviceKey = Buffer.from(device.state.committed.symmetricKey!);
    expect(deviceKey).toHaveLength(32);
    const unsealed = await sealing.open(
      record.sealedSecret!,
      symmetricKeySealContext(REGISTRATION_ID),
    );
    expect(unsealed.equals(deviceKey)).toBe(true);
    expect(record.enrollment.attestation).toEqual({ type: 'symmetricKey', symmetricKey: {} });
    const stored = JSON.stringify(record);
    for (const encoding of ['base64', 'hex', 'base64url'] as const) {
      expect(stored).not.toContain(deviceKey.toString(encoding));
    }
    expect(device.state.committed.config).toEqual(DPS_SETTINGS);
  });

  it('symmetric-key-group: the device key is the DPS derivation (checked with openssl)', async () => {
    const device = await oneDevice();
    const profile = testProfile({
      attestation: { mode: 'symmetric-key-group', enrollmentGroupId: 'line-a-group' },
    });
    const groupKey = randomBytes(64);
    const asked: string[] = [];
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile, {
        groupKey: async (id) => {
          asked.push(id);
          return new Uint8Array(groupKey);
        },
      }),
    });

    expect(outcome.state).toBe('pass');
    expect(asked).toEqual(['line-a-group']);
    // The recipe of the DPS docs: echo -n $REG_ID | openssl sha256 -mac HMAC -macopt hexkey:…
    const derived = await opensslHmac(groupKey, REGISTRATION_ID);
    expect(Buffer.from(device.state.committed.symmetricKey!).equals(derived)).toBe(true);
    const record = recorder.passes[0]!;
    expect(record.attestation).toBe('symmetric-key-group');
    // The fingerprint of the group key the device key came from, never the key itself.
    expect(record.enrollment).toEqual({
      registrationId: REGISTRATION_ID,
      enrollmentGroupId: 'line-a-group',
      groupKeyFingerprint: groupKeyFingerprint(groupKey),
    });
    expect(JSON.stringify(record)).not.toContain(groupKey.toString('base64'));
    expect(JSON.stringify(record)).not.toContain(groupKey.toString('hex'));
    expect(record.sealedSecret).toBeUndefined();
  });

  it('symmetric-key-group without a group key source fails before the device is touched', async () => {
    const device = await oneDevice();
    const profile = testProfile({
      attestation: { mode: 'symmetric-key-group', enrollmentGroupId: 'line-a-group' },
    });
    const recorder = new InMemoryRunRecorder();
    const outcome = await runOn(device, {
      profile,
      recorder,
      services: await testServices(profile),
    });
    expect(outcome.state === 'fail' && outcome.error.code).toBe('RUN_GROUP_KEY_UNAVAILABLE');
    expect(device.state.staged).toEqual({ config: {} });
  });
});

async function opensslHmac(key: Buffer, message: string): Promise<Buffer> {
  const child = execFile(
    'openssl',
    ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-binary'],
    { encoding: 'buffer' },
  );
  const out: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stdin!.end(message);
  await new Promise<void>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`openssl ${code}`)))),
  );
  const result = Buffer.concat(out);
  // Cross-check the test's own reading of the recipe against node:crypto once.
  expect(result.equals(createHmac('sha256', key).update(message).digest())).toBe(true);
  return result;
}
