import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor, type TpmVendor } from '../../certs/testing/tpmVendorKit.js';
import type { MessageName } from '../../firmware-bridge/codec/messages.js';
import { Simulator, type SimulatedDevice } from '../../firmware-bridge/simulator/simulator.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import type { RunOutcome } from './provisioningRun.js';
import { InMemoryRunRecorder, runOn, testProfile, testServices } from './testing/lineTestKit.js';

let vendor: TpmVendor;
let simulator: Simulator | undefined;

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST TPM Vendor' });
});

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

function codeOf(outcome: RunOutcome): string {
  return outcome.state === 'pass' ? 'PASS' : outcome.error.code;
}

/** The names of the requests `device` answers from now on. */
function requestsOf(device: SimulatedDevice): { names: MessageName[]; dispose: () => void } {
  const names: MessageName[] = [];
  const dispose = device.onRequest.on(({ name }) => {
    if (name !== 'UNKNOWN') names.push(name);
  });
  return { names, dispose };
}

describe('a board holding an X.509 identity, run under a mode that stages no identity key', () => {
  it('fails RUN_IDENTITY_OF_OTHER_MODE under symmetric and tpm profiles, writing and queuing nothing', async () => {
    // Boards with a TPM, so that the tpm profile gets past the capability check and reaches the
    // committed identity: the refusal is about the identity, not the hardware.
    simulator = await Simulator.start({
      devices: 2,
      link: 'pty',
      baudRate: 0,
      tpm: () => vendor.makeEk(),
    });
    const [used, fresh] = simulator.devices as [SimulatedDevice, SimulatedDevice];
    const recorder = new InMemoryRunRecorder();
    const run = async (device: SimulatedDevice, profile: ProductProfile): Promise<RunOutcome> =>
      runOn(device, {
        profile,
        recorder,
        services: await testServices(profile, { ekTrust: vendor.trust() }),
      });

    // `reprovision`: the duplicate policy would let each later run through on its own.
    const x509 = testProfile({ duplicates: 'reprovision' });
    expect(codeOf(await run(used, x509))).toBe('PASS');
    expect(used.state.identityState).toBe(1);
    const committedBefore = structuredClone(used.state.committed);

    const symmetric = testProfile({
      duplicates: 'reprovision',
      attestation: { mode: 'symmetric-key-individual' },
    });
    const tpm = testProfile({ duplicates: 'reprovision', attestation: { mode: 'tpm' } });
    for (const profile of [symmetric, tpm]) {
      const seen = requestsOf(used);
      const outcome = await run(used, profile);
      seen.dispose();
      expect(codeOf(outcome)).toBe('RUN_IDENTITY_OF_OTHER_MODE');
      expect(outcome.state === 'fail' && outcome.error.message).toMatch(
        /holds an X\.509 identity.*keep presenting the old certificate.*factory reset/,
      );
      expect(outcome.state === 'fail' && outcome.error.detail).toContain(profile.attestation.mode);
      // Only INFO (a repeat of the last one is answered from the device's cache, unseen): no
      // key, setting or COMMIT reached the board, and no EK was even read.
      expect(seen.names.filter((name) => name !== 'INFO')).toEqual([]);
      expect(used.state.committed).toEqual(committedBefore);
      expect(used.state.committed.symmetricKey).toBeUndefined();
      expect(used.state.staged).toEqual({ config: {} });
    }
    // Nothing queued for DPS by the refused runs, and no certificate issued for them.
    expect(recorder.passes).toHaveLength(1);
    expect(recorder.outboxCounts().pending).toBe(1);
    expect(recorder.failures.map((f) => f.error.code)).toEqual([
      'RUN_IDENTITY_OF_OTHER_MODE',
      'RUN_IDENTITY_OF_OTHER_MODE',
    ]);

    // A board that never held an X.509 identity runs under the same profile as before.
    expect(codeOf(await run(fresh, symmetric))).toBe('PASS');
    expect(fresh.state.committed.symmetricKey).toBeDefined();
    expect(fresh.state.identityState).toBe(0);
  });
});
