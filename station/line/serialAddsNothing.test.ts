/**
 * A board whose serial has no character a registration ID may hold (full-width `ＳＮ００１`,
 * `ß`, `!!!`) would add nothing to `{model}-{serial}`: every such board would render to the bare
 * model's ID, so under "refuse" the second one failed forever as a duplicate of the first, and
 * under "reprovision" it replaced the first one's enrollment. Now each fails at validate with
 * RUN_REGISTRATION_ID_INVALID before anything is written to it or issued for it. Real parts:
 * simulated boards on real ptys (their serials set in their flash, as a factory would), the
 * store and the CA's ledger on real files. Two serials that normalise to one ID (`SN 001`,
 * `SN-001`) are two boards: under "refuse" the second is told another board holds its ID.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyBank } from '../../firmware-bridge/simulator/deviceBanks.js';
import { serializeFlash } from '../../firmware-bridge/simulator/deviceStateFile.js';
import { Simulator, type SimulatedDevice } from '../../firmware-bridge/simulator/simulator.js';
import { stationOnDisk, type StationOnDisk } from '../store/testing/stationOnDisk.js';
import type { Line, RunEnded } from './line.js';
import { runErrorText } from './runErrors.js';
import { codeOf, nextEvent, testLine, testProfile, within } from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let station: StationOnDisk | undefined;
let line: Line | undefined;
let stateDir: string | undefined;
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  await station?.dispose();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  line = simulator = station = stateDir = undefined;
});

/** Every request that writes to a device: none may reach a board refused at validate. */
const WRITES = new Set(['GEN_KEY_CSR', 'PUT_CERT_CHAIN', 'SET_CONFIG', 'COMMIT']);

/**
 * Boards with these serials: the simulator names boards SIM000001…, and a flash file already
 * under that name is the board it "manufactured" earlier, so its identity (serial) is kept.
 */
async function boardsWithSerials(serials: string[]): Promise<SimulatedDevice[]> {
  stateDir = await mkdtemp(join(tmpdir(), 'serial-adds-nothing-'));
  for (const [index, serialNumber] of serials.entries()) {
    const identity = {
      serialNumber,
      model: 'LS-DEMO-1',
      hardwareRevision: 'A',
      firmwareVersion: '1.0.0-sim',
    };
    const file = join(stateDir, `SIM${String(index + 1).padStart(6, '0')}.json`);
    await writeFile(file, serializeFlash({ identity, committed: emptyBank() }));
  }
  simulator = await Simulator.start({
    devices: serials.length,
    link: 'pty',
    baudRate: 0,
    stateDir,
  });
  return [...simulator.devices];
}

/** A started line on `boards`, one slot each, its store and the CA's ledger on real files. */
async function startLine(
  boards: SimulatedDevice[],
  duplicates: 'refuse' | 'reprovision',
): Promise<StationOnDisk> {
  const onDisk = await stationOnDisk();
  station = onDisk;
  line = await testLine({
    profile: testProfile({ duplicates }),
    ca: onDisk.ca,
    recorder: onDisk.recorder,
    ports: {
      configured: boards.map((b) => b.hostPath),
      discover: false,
      baudRate: 0,
      pollMs: 60_000,
    },
  });
  await line.start();
  return onDisk;
}

async function runOnSlot(slot: number): Promise<RunEnded | undefined> {
  const ended = within(
    20_000,
    nextEvent(line!.onRunEnded, (r) => r.slot === slot),
  );
  line!.provision(slot);
  return ended;
}

describe('a serial that adds nothing to the registration ID', () => {
  it.each(['refuse', 'reprovision'] as const)(
    'under %s: each such board fails RUN_REGISTRATION_ID_INVALID and gets no identity; a good one passes',
    async (duplicates) => {
      const serials = ['ＳＮ００１', 'ß', '!!!', 'SIM000004'];
      const boards = await boardsWithSerials(serials);
      expect(boards.map((b) => b.serialNumber)).toEqual(serials);
      const writes = boards.map((board) => {
        const names: string[] = [];
        board.onRequest.on(({ name }) => WRITES.has(name) && names.push(name));
        return names;
      });
      const disk = await startLine(boards, duplicates);

      for (const [index, serial] of serials.slice(0, 3).entries()) {
        const run = await runOnSlot(index + 1);
        expect(codeOf(run)).toBe('RUN_REGISTRATION_ID_INVALID');
        if (run?.outcome.state !== 'fail') throw new Error('expected a failed run');
        expect(run.outcome.error.message).toBe(runErrorText.RUN_REGISTRATION_ID_INVALID);
        expect(run.outcome.error.detail).toContain(
          `serial ${JSON.stringify(serial)} has no character a registration ID may hold`,
        );
        expect(disk.store.run(run.outcome.runId!)).toMatchObject({
          state: 'fail',
          error: { code: 'RUN_REGISTRATION_ID_INVALID' },
        });
        expect(run.outcome.certificateSerial).toBeUndefined();
        expect(writes[index]).toEqual([]);
        expect(boards[index]!.state.identityState).toBe(0);
        expect(boards[index]!.state.committed.config).toEqual({});
      }
      // Nothing was issued or queued: no board holds or is enrolled as the bare `ls-demo-1`.
      expect(disk.ledger.list()).toEqual([]);
      expect(disk.store.listOutbox()).toEqual([]);

      // The line itself is fine: a board with a usable serial passes as before.
      expect(codeOf(await runOnSlot(4))).toBe('PASS');
      expect(boards[3]!.state.identityState).toBe(1);
      expect(disk.store.listOutbox()).toMatchObject([{ registrationId: 'ls-demo-1-sim000004' }]);
    },
  );
});

describe('two serials that make one registration ID', () => {
  it('under refuse: the second board fails RUN_REGISTRATION_ID_TAKEN naming the first, not as a duplicate of itself', async () => {
    const boards = await boardsWithSerials(['SN 001', 'SN-001']);
    const disk = await startLine(boards, 'refuse');
    expect(codeOf(await runOnSlot(1))).toBe('PASS');
    const second = await runOnSlot(2);
    expect(codeOf(second)).toBe('RUN_REGISTRATION_ID_TAKEN');
    if (second?.outcome.state !== 'fail') throw new Error('expected a failed run');
    expect(second.outcome.error.message).toBe(runErrorText.RUN_REGISTRATION_ID_TAKEN);
    expect(second.outcome.error.detail).toMatch(
      /^ls-demo-1-sn-001 belongs to SN 001 \(LS-DEMO-1\), passed in run \d+ at .+; this device is SN-001 \(LS-DEMO-1\)$/,
    );
    expect(boards[1]!.state.identityState).toBe(0);
    expect(disk.store.listOutbox()).toHaveLength(1);
    // The same board again is still the duplicate it always was.
    expect(codeOf(await runOnSlot(1))).toBe('RUN_DUPLICATE_DEVICE');
  });
});
