/**
 * A line started again with the boards it passed still on their ports (a restart at the shift
 * change, a power cut): auto mode asks each who it is before any run. A board still holding its
 * PASS is shown with it and left alone; one that lost its identity meanwhile gets its run. Real
 * ptys, real SQLite store, the real FACTORY_RESET of the simulated firmware.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor, type TpmVendor } from '../../certs/testing/tpmVendorKit.js';
import { ekSha256 } from '../../certs/tpm/ekRegistrationId.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { Simulator, type SimulatedDevice } from '../../firmware-bridge/simulator/simulator.js';
import type { AttestationMode } from '../profiles/attestationModes.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { createDemoCa, type DemoCa } from '../demo/demoCa.js';
import type { Line, RunEnded } from './line.js';
import { holdsEarlierPass } from './passedBeforeStart.js';
import {
  events,
  factoryReset,
  nextRunEnd,
  slotReaches,
  testLine,
  testProfile,
  within,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let demoCa: DemoCa | undefined;
let vendor: TpmVendor;
beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST TPM Vendor' });
});
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  await demoCa?.dispose();
  line = simulator = demoCa = undefined;
});

describe('a line started again with the boards it passed still on their ports', () => {
  it('logs one line per board it leaves alone: port, board, registration ID, run, how to run it again', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const boards = simulator.devices;
    demoCa = await createDemoCa('Line Station RESTART LOG TEST');
    const store = new ProvisioningStore(demoCa.db);
    const logged: string[] = [];
    const options = {
      ca: demoCa.ca,
      profile: testProfile(),
      recorder: store,
      ports: {
        configured: boards.map((board) => board.hostPath),
        discover: false,
        baudRate: 0,
        pollMs: 60_000,
      },
      mode: 'auto' as const,
      log: (text: string) => logged.push(text),
    };
    line = await testLine(options);
    const firstRuns = within<RunEnded[]>(20_000, events(line.onRunEnded, 2));
    await line.start();
    expect((await firstRuns)!.map((ended) => ended.outcome.state)).toEqual(['pass', 'pass']);
    await line.stop();
    expect(logged).toEqual([]); // runs that pass are the runs' own lines, not the line's
    const passes = store.lastPassesByPort();

    line = await testLine(options);
    const shown = within(
      10_000,
      events(line.onSlotChanged, 2, (view) => view.state === 'pass'),
    );
    await line.start();
    expect(await shown).toHaveLength(2);
    // The two checks run side by side: either may end first.
    expect([...logged].sort()).toEqual(
      boards.map((board, i) => {
        const pass = passes.find((p) => p.port === board.hostPath)!;
        return `slot ${i + 1} ${board.hostPath}: PASS kept, ${board.serialNumber} (LS-DEMO-1) still holds ${pass.registrationId} from run ${pass.runId}, so the restarted line runs nothing on it; to run it again, unplug it and plug it back.`;
      }),
    );
    await line.rescan();
    expect(logged).toHaveLength(2);
    expect(store.runs({})).toHaveLength(2);
  });

  // An X.509 identity leaves identity state 1, a symmetric key or a TPM state 0 (PROTOCOL.md
  // §4.1): each board holds its PASS by its committed settings and its own kind of credential.
  it.each<AttestationMode>(['x509-device-key', 'symmetric-key-individual', 'tpm'])(
    'shows the PASS of a %s board that still holds it and runs nothing on it; a wiped board runs',
    async (mode) => {
      simulator = await Simulator.start({
        devices: 2,
        link: 'pty',
        baudRate: 0,
        ...(mode === 'tpm' && { tpm: () => vendor.makeEk() }),
      });
      const [a, b] = simulator.devices as [SimulatedDevice, SimulatedDevice];
      // The store on the CA's database, as a station keeps them: a PASS checks the CA's record.
      demoCa = await createDemoCa('Line Station RESTART TEST');
      const store = new ProvisioningStore(demoCa.db);
      const options = {
        ca: demoCa.ca,
        profile: testProfile({ duplicates: 'reprovision', attestation: { mode } }),
        recorder: store,
        ports: {
          configured: [a.hostPath, b.hostPath],
          discover: false,
          baudRate: 0,
          pollMs: 60_000,
        },
        mode: 'auto' as const,
        ekTrust: vendor.trust(),
      };
      line = await testLine(options);
      const firstRuns = within<RunEnded[]>(20_000, events(line.onRunEnded, 2));
      await line.start();
      const first = (await firstRuns)!;
      expect(first.map((ended) => ended.outcome.state)).toEqual(['pass', 'pass']);
      expect(a.state.identityState).toBe(mode === 'x509-device-key' ? 1 : 0);
      const passOfA = first.find((ended) => ended.slot === 1)!.outcome;
      await line.stop();
      // While the station is down, board b is wiped at the bench; board a stays as it passed.
      await factoryReset(b.hostPath);

      line = await testLine(options);
      const aShown = within(10_000, slotReaches(line.onSlotChanged, 1, 'pass'));
      const rerun = nextRunEnd(line, 20_000);
      await line.start();
      expect(await aShown).toMatchObject({
        state: 'pass',
        runId: passOfA.runId,
        serialNumber: a.serialNumber,
        registrationId: passOfA.state === 'pass' ? passOfA.record.registrationId : undefined,
      });
      expect(await rerun).toMatchObject({ slot: 2, outcome: { state: 'pass' } });
      // a has its one run, b its two; nothing else ran.
      const runs = store.runs({});
      expect(runs.filter((run) => run.serialNumber === a.serialNumber)).toHaveLength(1);
      expect(runs.filter((run) => run.serialNumber === b.serialNumber)).toHaveLength(2);
      expect(line.slots()[0]).toMatchObject({ state: 'pass', runId: passOfA.runId });
    },
  );

  it('takes an X.509 board for the one it passed only while its key signs for that leaf', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [a, b] = simulator.devices as [SimulatedDevice, SimulatedDevice];
    demoCa = await createDemoCa('Line Station RESTART TEST');
    const store = new ProvisioningStore(demoCa.db);
    line = await testLine({
      ca: demoCa.ca,
      recorder: store,
      ports: { configured: [a.hostPath, b.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
      mode: 'auto',
    });
    const ran = within<RunEnded[]>(20_000, events(line.onRunEnded, 2));
    await line.start();
    expect((await ran)!.map((ended) => ended.outcome.state)).toEqual(['pass', 'pass']);
    await line.stop();
    const passes = store.lastPassesByPort();
    const passOfA = passes.find((p) => p.port === a.hostPath)!;
    const passOfB = passes.find((p) => p.port === b.hostPath)!;
    expect(passOfA.certificateDer).toBeInstanceOf(Uint8Array);

    const session = await DeviceSession.open(createTransport(a.hostPath), {});
    try {
      const signal = new AbortController().signal;
      expect(await holdsEarlierPass(session, passOfA, signal)).toBe(true);
      // The leaf of another board: board a's committed key does not sign for it.
      const otherLeaf = { ...passOfA, certificateDer: passOfB.certificateDer! };
      expect(await holdsEarlierPass(session, otherLeaf, signal)).toBe(false);
    } finally {
      await session.close();
    }
  });

  it('takes a board for the one it passed only with the credential that run gave it', async () => {
    simulator = await Simulator.start({
      devices: 1,
      link: 'pty',
      baudRate: 0,
      tpm: () => vendor.makeEk(),
    });
    const [board] = simulator.devices as [SimulatedDevice];
    demoCa = await createDemoCa('Line Station RESTART TEST');
    const store = new ProvisioningStore(demoCa.db);
    line = await testLine({
      ca: demoCa.ca,
      profile: testProfile({ attestation: { mode: 'tpm' } }),
      recorder: store,
      ports: { configured: [board.hostPath], discover: false, baudRate: 0, pollMs: 60_000 },
      mode: 'auto',
      ekTrust: vendor.trust(),
    });
    const ran = nextRunEnd(line, 20_000);
    await line.start();
    expect(await ran).toMatchObject({ outcome: { state: 'pass' } });
    await line.stop();
    const [pass] = store.lastPassesByPort();
    expect(pass).toMatchObject({ attestation: 'tpm', ekSha256: expect.any(String) as string });

    const session = await DeviceSession.open(createTransport(board.hostPath), {});
    try {
      const { ekPublic } = await session.request('GET_EK', {});
      expect(pass!.ekSha256).toBe(ekSha256(ekPublic));
      const signal = new AbortController().signal;
      expect(await holdsEarlierPass(session, pass!, signal)).toBe(true);
      // Another TPM behind the same serial and settings: a board flashed from a cloned image.
      const otherEk = { ...pass!, ekSha256: ekSha256(Buffer.from('another TPM')) };
      expect(await holdsEarlierPass(session, otherEk, signal)).toBe(false);
      // Taken for a symmetric-key pass, the board holds no symmetric key: the device refuses the
      // challenge (BAD_STATE) and the slot runs the board.
      const symmetric = { ...pass!, attestation: 'symmetric-key-individual' as const };
      await expect(holdsEarlierPass(session, symmetric, signal)).rejects.toMatchObject({
        code: expect.stringContaining('BAD_STATE') as string,
      });
    } finally {
      await session.close();
    }
  });
});
