import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor, type TpmVendor } from '../../../certs/testing/tpmVendorKit.js';
import { registrationIdFromEk } from '../../../certs/tpm/ekRegistrationId.js';
import type { TpmContents } from '../../../firmware-bridge/simulator/deviceFirmware.js';
import { Simulator } from '../../../firmware-bridge/simulator/simulator.js';
import type { ProductProfileInput } from '../../profiles/productProfile.js';
import type { RunOutcome } from '../provisioningRun.js';
import { tpmRunOnSwappedBoard } from '../testing/swappedBoard.js';
import { InMemoryRunRecorder, runOn, testProfile, testServices } from '../testing/lineTestKit.js';

let vendor: TpmVendor;
let otherVendor: TpmVendor;
let simulator: Simulator | undefined;

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST TPM Vendor' });
  otherVendor = await createTpmVendor({ name: 'TEST Unknown Vendor' });
});

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

/** One simulated device on a pty whose TPM holds `tpm`; the run's services trust `vendor`. */
async function runTpmDevice(
  tpm: TpmContents,
  profile: Partial<ProductProfileInput> = {},
  options: { trusted?: boolean } = {},
): Promise<{ outcome: RunOutcome; recorder: InMemoryRunRecorder }> {
  simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, tpm: () => tpm });
  const full = testProfile({ attestation: { mode: 'tpm' }, ...profile });
  const recorder = new InMemoryRunRecorder();
  const services = await testServices(full, {
    ...(options.trusted !== false && { ekTrust: vendor.trust() }),
  });
  const outcome = await runOn(simulator.devices[0]!, { profile: full, recorder, services });
  return { outcome, recorder };
}

function codeOf(outcome: RunOutcome): string | undefined {
  return outcome.state === 'pass' ? undefined : outcome.error.code;
}

describe('tpm attestation on a simulated device', () => {
  it('enrolls a TPM whose EK certificate chains to a trusted vendor, with the EK-derived ID', async () => {
    const tpm = await vendor.makeEk({ type: 'rsa' });
    const { outcome, recorder } = await runTpmDevice(tpm, { registrationId: { template: '{ek}' } });
    expect(outcome.state).toBe('pass');
    if (outcome.state !== 'pass') return;
    const registrationId = registrationIdFromEk(tpm.ekPublic);
    expect(registrationId).toMatch(/^[a-z2-7]{52}$/);
    const { record } = outcome;
    expect(record.registrationId).toBe(registrationId);
    expect(record.certificateSerial).toBeUndefined();
    expect(record.enrollment).toMatchObject({
      registrationId,
      attestation: {
        type: 'tpm',
        tpm: { endorsementKey: Buffer.from(tpm.ekPublic).toString('base64') },
      },
    });
    expect(record.evidence?.endorsement).toMatchObject({
      ekSha256: createHash('sha256').update(tpm.ekPublic).digest('hex'),
      ekType: 'rsa',
      certificate: {
        vendorRoot: expect.stringContaining('TEST TPM Vendor') as unknown,
        certificateSha256: createHash('sha256').update(tpm.ekCertificate!).digest('hex'),
        tpm: { manufacturer: expect.any(String) as unknown },
      },
    });
    // Verify read the settings back; there was no challenge to sign (an EK only decrypts).
    expect(record.steps.map((s) => s.step)).toContain('verify');
    expect(simulator!.devices[0]!.state.committed.config).toMatchObject({ registrationId });
    expect(recorder.passes).toHaveLength(1);
  });

  it('names the device by the profile template when it does not use {ek}', async () => {
    const { outcome } = await runTpmDevice(await vendor.makeEk({ type: 'rsa' }));
    expect(outcome.state === 'pass' && outcome.record.registrationId).toBe('ls-demo-1-sim000001');
  });

  it('refuses an ECC EK, which DPS cannot prove possession of, before writing anything', async () => {
    const { outcome } = await runTpmDevice(await vendor.makeEk({ type: 'ecc' }));
    expect(codeOf(outcome)).toBe('RUN_EK_NOT_RSA');
    expect(outcome.state === 'fail' && outcome.error.detail).toMatch(/ECC P-256/);
    expect(simulator!.devices[0]!.state.staged).toEqual({ config: {} });
  });

  it('refuses, before writing anything, a TPM of an unknown vendor, one without a certificate, and a cut certificate', async () => {
    const stranger = await otherVendor.makeEk();
    const untrusted = await runTpmDevice(stranger);
    expect(codeOf(untrusted.outcome)).toBe('EK_CERT_UNTRUSTED');
    expect(simulator!.devices[0]!.state.staged).toEqual({ config: {} });
    expect(untrusted.recorder.passes).toHaveLength(0);
    // The refused TPM is on record by its EK, with no certificate vouched for.
    expect(untrusted.recorder.failures[0]!.evidence).toEqual({
      endorsement: {
        ekSha256: createHash('sha256').update(stranger.ekPublic).digest('hex'),
        ekType: 'rsa',
        notes: [],
      },
    });
    await simulator!.stop();

    const bare = await runTpmDevice(await vendor.makeEk({ withCertificate: false }));
    expect(codeOf(bare.outcome)).toBe('RUN_EK_CERTIFICATE_MISSING');
    await simulator!.stop();

    simulator = undefined;
    const tpm = await vendor.makeEk();
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, tpm: () => tpm });
    simulator.devices[0]!.faults.truncateEkCertificate(300);
    const profile = testProfile({ attestation: { mode: 'tpm' } });
    const cut = await runOn(simulator.devices[0]!, {
      profile,
      recorder: new InMemoryRunRecorder(),
      services: await testServices(profile, { ekTrust: vendor.trust() }),
    });
    expect(codeOf(cut)).toBe('EK_CERT_MALFORMED');
    expect(simulator.devices[0]!.state.identityState).toBe(0);
  });

  it('accepts a TPM without a certificate when the profile allows it, and says so in the evidence', async () => {
    const tpm = await vendor.makeEk({ withCertificate: false });
    const { outcome } = await runTpmDevice(
      tpm,
      { attestation: { mode: 'tpm', ekCertificate: 'if-present' } },
      { trusted: false },
    );
    expect(outcome.state).toBe('pass');
    const evidence = outcome.state === 'pass' ? outcome.record.evidence?.endorsement : undefined;
    expect(evidence?.certificate).toBeUndefined();
    expect(evidence?.notes.join(' ')).toMatch(/holds no EK certificate/);
  });

  it('fails RUN_EK_TRUST_UNAVAILABLE on a line started without vendor CAs', async () => {
    const { outcome } = await runTpmDevice(await vendor.makeEk(), {}, { trusted: false });
    expect(codeOf(outcome)).toBe('RUN_EK_TRUST_UNAVAILABLE');
  });

  it('refuses an EK that passed on another device, and lets its own device through again', async () => {
    const tpm = await vendor.makeEk();
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0, tpm: () => tpm });
    const profile = testProfile({ attestation: { mode: 'tpm' }, duplicates: 'reprovision' });
    const recorder = new InMemoryRunRecorder();
    const services = await testServices(profile, {
      ekTrust: vendor.trust(),
      endorsementKeyElsewhere: (query) => recorder.findEndorsementKeyElsewhere(query),
    });
    const [first, copy] = simulator.devices;
    expect((await runOn(first!, { profile, recorder, services })).state).toBe('pass');
    const copied = await runOn(copy!, { profile, recorder, services });
    expect(codeOf(copied)).toBe('RUN_EK_ON_ANOTHER_DEVICE');
    expect(copied.state === 'fail' && copied.error.detail).toMatch(
      /passed on SIM000001 \(LS-DEMO-1\) as ls-demo-1-sim000001 in run 1/,
    );
    expect(copy!.state.staged).toEqual({ config: {} });
    expect((await runOn(first!, { profile, recorder, services })).state).toBe('pass');
  });

  it('refuses an EK certificate naming another key than the TPM holds', async () => {
    const mine = await vendor.makeEk();
    const another = await vendor.makeEk();
    const { outcome } = await runTpmDevice({
      ekPublic: mine.ekPublic,
      ekCertificate: another.ekCertificate!,
    });
    expect(codeOf(outcome)).toBe('EK_CERT_KEY_MISMATCH');
  });

  it('fails RUN_DEVICE_CHANGED before COMMIT when another board answers on the port after GET_EK', async () => {
    const tpms = [await vendor.makeEk(), await vendor.makeEk()];
    simulator = await Simulator.start({
      devices: 2,
      link: 'pty',
      baudRate: 0,
      tpm: (device) => tpms[device.index]!,
    });
    const [first, second] = simulator.devices;
    let commits = 0;
    const disposers = [first!, second!].map((device) =>
      device.onRequest.on(({ name }) => {
        if (name === 'COMMIT') commits++;
      }),
    );
    try {
      const { outcome, recorder } = await tpmRunOnSwappedBoard(first!, second!, {
        ekTrust: vendor.trust(),
      });
      expect(codeOf(outcome)).toBe('RUN_DEVICE_CHANGED');
      expect(outcome.state === 'fail' && outcome.error.message).toMatch(
        /A different board answered.*nothing was committed.*Provision the board on this port again/,
      );
      expect(outcome.state === 'fail' && outcome.error.detail).toBe(
        'identify read LS-DEMO-1 SIM000001; before COMMIT LS-DEMO-1 SIM000002 answered',
      );
      // The second board took the first one's settings: the swap happened where it should.
      expect(second!.state.staged.config).toMatchObject({ registrationId: 'ls-demo-1-sim000001' });
      expect(commits).toBe(0);
      expect(second!.state.identityState).toBe(0);
      expect(second!.state.committed.config).toEqual({});
      expect(first!.state.identityState).toBe(0);
      expect(recorder.passes).toHaveLength(0);
      expect(recorder.failures).toMatchObject([
        {
          state: 'fail',
          error: { code: 'RUN_DEVICE_CHANGED' },
          registrationId: 'ls-demo-1-sim000001',
        },
      ]);
      expect(recorder.failures[0]!.steps.at(-1)?.step).toBe('verify');
    } finally {
      for (const dispose of disposers) dispose();
    }
  });
});
