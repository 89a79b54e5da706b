import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor, type TpmVendor } from '../../../certs/testing/tpmVendorKit.js';
import { ekSha256 } from '../../../certs/tpm/ekRegistrationId.js';
import { Simulator } from '../../../firmware-bridge/simulator/simulator.js';
import { tpmRunOnSwappedBoard } from '../testing/swappedBoard.js';

let vendor: TpmVendor;
const simulators: Simulator[] = [];

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST TPM Vendor' });
});

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.stop()));
});

describe('tpm: a board swapped before COMMIT for one flashed from the same image', () => {
  it('fails RUN_DEVICE_CHANGED on the other EK, though serial and model match, and commits nothing', async () => {
    // Two benches of one device each: both boards answer INFO as SIM000001 (LS-DEMO-1), as
    // boards flashed from one cloned image would; only their TPMs differ.
    const tpms = [await vendor.makeEk(), await vendor.makeEk()];
    for (const tpm of tpms) {
      simulators.push(
        await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, tpm: () => tpm }),
      );
    }
    const [first, second] = simulators.map((simulator) => simulator.devices[0]!);
    expect(second!.serialNumber).toBe(first!.serialNumber);
    const requests: string[][] = [[], []];
    const disposers = [first!, second!].map((device, i) =>
      device.onRequest.on(({ name }) => requests[i]!.push(name)),
    );
    try {
      const { outcome, recorder } = await tpmRunOnSwappedBoard(first!, second!, {
        ekTrust: vendor.trust(),
      });
      expect(outcome.state === 'fail' && outcome.error.code).toBe('RUN_DEVICE_CHANGED');
      expect(outcome.state === 'fail' && outcome.error.detail).toBe(
        `validate read the EK with SHA-256 ${ekSha256(tpms[0]!.ekPublic)}; before COMMIT LS-DEMO-1 SIM000001 answered with EK SHA-256 ${ekSha256(tpms[1]!.ekPublic)}`,
      );
      // The clone took the staged settings and was asked for its EK; nothing was committed.
      expect(second!.state.staged.config).toMatchObject({ registrationId: 'ls-demo-1-sim000001' });
      expect(requests[1]).toContain('GET_EK');
      expect(requests.flat()).not.toContain('COMMIT');
      expect(second!.state.committed.config).toEqual({});
      expect(first!.state.committed.config).toEqual({});
      expect(recorder.passes).toHaveLength(0);
      expect(recorder.failures).toMatchObject([{ error: { code: 'RUN_DEVICE_CHANGED' } }]);
      expect(recorder.failures[0]!.steps.at(-1)?.step).toBe('verify');
    } finally {
      for (const dispose of disposers) dispose();
    }
  });
});
