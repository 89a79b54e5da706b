/**
 * Two boards that claim one identity on two slots at once (cloned-serial firmware, serials that
 * render to one registration ID, one TPM's EK on two boards): exactly one passes, the other fails
 * at validate, naming the slot that holds the identity, before anything is written to its device.
 * Before the line claimed the identity, both reached COMMIT and the store refused the second at
 * its commit: a device holding an identity nobody recorded (RUN_COMMIT_NOT_RECORDED). Real parts:
 * the store on a real file, simulated devices on real ptys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTpmVendor } from '../../certs/testing/tpmVendorKit.js';
import { isBankEmpty } from '../../firmware-bridge/simulator/deviceBanks.js';
import {
  Simulator,
  type SimulatedDevice,
  type SimulatorOptions,
} from '../../firmware-bridge/simulator/simulator.js';
import type { ProductProfileInput } from '../profiles/productProfile.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import type { Line, LineOptions, RunEnded } from './line.js';
import { runErrorText } from './runErrors.js';
import { isStationFault } from './stationFaults.js';
import { codeOf, nextEvent, testLine, testProfile, within } from './testing/lineTestKit.js';

const simulators: Simulator[] = [];
let line: Line | undefined;
let station: StationOnDisk | undefined;
/** Every run the test's line ended. */
const runs: RunEnded[] = [];
afterEach(async () => {
  await line?.stop();
  for (const simulator of simulators.splice(0)) await simulator.stop();
  await station?.dispose();
  line = station = undefined;
  runs.length = 0;
});

/** Every request that writes to a device: none may reach the board that lost the claim. */
const WRITES = new Set(['GEN_KEY_CSR', 'PUT_CERT_CHAIN', 'SET_CONFIG', 'COMMIT']);

/** COMMIT takes this long on the first board: the second starts while it is in flight. */
const SLOW_FLASH = { flashWritePer4KiBMs: 1_500 };

async function simulated(options: Partial<SimulatorOptions>): Promise<SimulatedDevice[]> {
  const simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, ...options });
  simulators.push(simulator);
  return [...simulator.devices];
}

/** A manual line on `ports` over a real store, its product's duplicate policy `duplicates`. */
async function startLine(
  ports: string[],
  profile: Partial<ProductProfileInput>,
  extra: Partial<LineOptions> = {},
): Promise<Line> {
  station = await stationOnDisk();
  line = await testLine({
    profile: testProfile(profile),
    ca: station.ca,
    recorder: station.recorder,
    ports: { configured: ports, discover: false, baudRate: 0, pollMs: 60_000 },
    sessionOptions: { retries: 1 },
    ...extra,
  });
  await line.start();
  line.onRunEnded.on((ended) => runs.push(ended));
  return line;
}

/** The names of the requests `device` answered, as they come. */
function requestsOf(device: SimulatedDevice): string[] {
  const names: string[] = [];
  device.onRequest.on(({ name }) => names.push(name));
  return names;
}

function runEndOn(line: Line, slot: number): Promise<RunEnded | undefined> {
  return within(
    20_000,
    nextEvent(line.onRunEnded, (r) => r.slot === slot),
  );
}

/**
 * Starts slot 1, and slot 2 once slot 1's COMMIT is on its device's wire (the widest window:
 * the store has no PASS to refuse by yet); resolves with both runs' ends.
 */
async function secondWhileFirstCommits(line: Line): Promise<[RunEnded?, RunEnded?]> {
  const first = runEndOn(line, 1);
  const second = runEndOn(line, 2);
  const committing = nextEvent(line.onSlotChanged, (v) => v.slot === 1 && v.step === 'commit');
  line.provision(1);
  await within(20_000, committing);
  line.provision(2);
  return [await first, await second];
}

/**
 * The store holds one live enrollment, and no run ended "committed but not recorded" (the
 * store's refusal at its commit keeps the store's code, STORE_DUPLICATE_ENROLLMENT or
 * STORE_EK_ON_ANOTHER_DEVICE, with RUN_COMMIT_NOT_RECORDED's text).
 */
function expectOneRecordedIdentity(): void {
  const live = station!.db
    .prepare(`SELECT count(*) FROM enrollments WHERE status != 'superseded'`)
    .pluck()
    .get();
  expect(live).toBe(1);
  const unrecorded = runs.filter(
    ({ outcome }) =>
      outcome.state !== 'pass' &&
      (outcome.error.code === 'RUN_COMMIT_NOT_RECORDED' ||
        outcome.error.message === runErrorText.RUN_COMMIT_NOT_RECORDED),
  );
  expect(unrecorded).toEqual([]);
}

function expectUntouched(device: SimulatedDevice, requests: string[]): void {
  expect(requests.filter((name) => WRITES.has(name))).toEqual([]);
  expect(device.state.identityState).toBe(0);
  expect(isBankEmpty(device.state.committed)).toBe(true);
}

describe('one registration ID on two slots at once', () => {
  it.each([
    ['refuse', 'RUN_DUPLICATE_DEVICE', 0],
    ['reprovision', 'PASS', 1],
  ] as const)(
    'under %s: one PASS, the other fails before its device is written; released, the policy judges it',
    async (duplicates, later, laterIdentityState) => {
      // Cloned-serial firmware: both boards say SIM000001.
      const [first] = await simulated({ latencies: SLOW_FLASH });
      const [second] = await simulated({});
      expect(second!.serialNumber).toBe(first!.serialNumber);
      const line = await startLine([first!.hostPath, second!.hostPath], { duplicates });
      const secondRequests = requestsOf(second!);

      const [one, two] = await secondWhileFirstCommits(line);
      expect(codeOf(one)).toBe('PASS');
      expect(two?.outcome).toMatchObject({
        state: 'fail',
        registrationId: 'ls-demo-1-sim000001',
        error: {
          code: 'RUN_REGISTRATION_ID_ON_ANOTHER_SLOT',
          message:
            'Slot 1 is provisioning a device with this registration ID: two boards with the same serial? Set this one aside and check its label.',
        },
      });
      expect(line.slots()[1]?.error?.code).toBe('RUN_REGISTRATION_ID_ON_ANOTHER_SLOT');
      expectUntouched(second!, secondRequests);
      expect(first!.state.identityState).toBe(1);
      expectOneRecordedIdentity();
      // The refusal is a fact about the board: it counts toward the slot's repeated-failure hold.
      expect(isStationFault('RUN_REGISTRATION_ID_ON_ANOTHER_SLOT')).toBe(false);

      // Both ended, the claim is gone: the board's next run is the duplicate policy's to judge.
      const again = runEndOn(line, 2);
      line.provision(2);
      expect(codeOf(await again)).toBe(later);
      expect(second!.state.identityState).toBe(laterIdentityState);
      expectOneRecordedIdentity();
    },
  );

  it('serials that render to one ID, started together: one PASS, the other names its slot', async () => {
    // Slow key generation keeps both runs in flight well past both validates.
    const latencies = { keygenMs: 1_000 };
    const [upper] = await simulated({ serialPrefix: 'SIM', latencies });
    const [lower] = await simulated({ serialPrefix: 'sim', latencies });
    const line = await startLine([upper!.hostPath, lower!.hostPath], { duplicates: 'refuse' });
    const requests = [requestsOf(upper!), requestsOf(lower!)];
    const ends = [runEndOn(line, 1), runEndOn(line, 2)];
    line.provision(1);
    line.provision(2);
    const both = await Promise.all(ends);

    expect(both.map(codeOf).sort()).toEqual(['PASS', 'RUN_REGISTRATION_ID_ON_ANOTHER_SLOT']);
    const loser = both.findIndex((r) => codeOf(r) !== 'PASS');
    const winnerSlot = loser === 0 ? 2 : 1;
    const failed = both[loser]!.outcome;
    expect(failed.state !== 'pass' && failed.error.message).toBe(
      runErrorText.RUN_REGISTRATION_ID_ON_ANOTHER_SLOT.replace(
        'Another slot',
        `Slot ${winnerSlot}`,
      ),
    );
    expectUntouched([upper!, lower!][loser]!, requests[loser]!);
    expectOneRecordedIdentity();
  });
});

describe('a claim ends with its run', () => {
  it('a cancelled run and a failed run release the ID: the other board then passes', async () => {
    const [first] = await simulated({});
    const [second] = await simulated({});
    const line = await startLine([first!.hostPath, second!.hostPath], { duplicates: 'refuse' });
    const attesting = nextEvent(line.onSlotChanged, (v) => v.slot === 1 && v.step === 'attest');
    const cancelled = runEndOn(line, 1);
    line.provision(1);
    await within(20_000, attesting);
    line.cancel(1);
    expect((await cancelled)?.outcome.state).toBe('cancelled');

    // A run that fails after its claim (its device drops at key generation) releases it too.
    const dropped = second!.faults.unplugDuringNext('GEN_KEY_CSR');
    const failed = runEndOn(line, 2);
    line.provision(2);
    await dropped;
    // Past validate: the cancelled run on slot 1 had released the ID.
    const ended = await failed;
    expect(ended?.outcome.state).toBe('fail');
    expect(codeOf(ended)).not.toBe('RUN_REGISTRATION_ID_ON_ANOTHER_SLOT');

    // Slot 2's failed run released it in turn.
    const passed = runEndOn(line, 1);
    line.provision(1);
    expect(codeOf(await passed)).toBe('PASS');
    expectOneRecordedIdentity();
  });
});

describe('one TPM on two slots at once', () => {
  it('the second board fails RUN_EK_ON_ANOTHER_SLOT before its device is written', async () => {
    const vendor = await createTpmVendor({ name: 'TEST TPM Vendor' });
    const tpm = await vendor.makeEk({ type: 'rsa' });
    // Two boards, two serials, one TPM's EK: each its own registration ID from the template.
    const simulator = await Simulator.start({
      devices: 2,
      link: 'pty',
      baudRate: 0,
      latencies: SLOW_FLASH,
      tpm: () => tpm,
    });
    simulators.push(simulator);
    const [first, second] = simulator.devices;
    const line = await startLine(
      [first!.hostPath, second!.hostPath],
      { attestation: { mode: 'tpm' }, duplicates: 'refuse' },
      { ekTrust: vendor.trust() },
    );
    const secondRequests = requestsOf(second!);

    const [one, two] = await secondWhileFirstCommits(line);
    expect(codeOf(one)).toBe('PASS');
    expect(two?.outcome).toMatchObject({
      state: 'fail',
      registrationId: 'ls-demo-1-sim000002',
      error: {
        code: 'RUN_EK_ON_ANOTHER_SLOT',
        message: runErrorText.RUN_EK_ON_ANOTHER_SLOT.replace('Another slot', 'Slot 1'),
      },
    });
    expectUntouched(second!, secondRequests);
    expectOneRecordedIdentity();

    // Released: the store's own check now refuses the TPM as one that passed on another board.
    const again = runEndOn(line, 2);
    line.provision(2);
    expect(codeOf(await again)).toBe('RUN_EK_ON_ANOTHER_DEVICE');
    expectUntouched(second!, secondRequests);
    expectOneRecordedIdentity();
  });
});
