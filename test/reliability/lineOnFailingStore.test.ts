/**
 * A simulated device on a real pty, provisioned by the line engine into a real station database
 * that fills up or is deleted while the line runs: what the slot reports, what the device holds,
 * what the store keeps.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../certs/stationCa.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { leafProfileOf } from '../../station/line/productLeafProfile.js';
import { runProvisioning, type RunProgress } from '../../station/line/provisioningRun.js';
import { testProfile, testSealing } from '../../station/line/testing/lineTestKit.js';
import { CertificateLedger } from '../../station/store/certificateLedger.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { fillDatabase } from './storeFaults.js';

const dir = mkdtempSync(join(tmpdir(), 'ls-line-store-'));
const profile = testProfile();
let db: Database.Database;
let store: ProvisioningStore;
let ca: StationCa;
let simulator: Simulator;

beforeAll(async () => {
  const wrapper = new PassphraseKeyWrapper(randomBytes(12).toString('hex'), {
    scrypt: { N: 2 ** 10, r: 8, p: 1 },
  });
  await initStationCa(join(dir, 'ca'), { name: 'Line Station RELIABILITY TEST', wrapper });
  db = openStationDatabase(join(dir, 'data', 'station.db'));
  store = new ProvisioningStore(db);
  // The CA records what it issues in the same database, as on a real line.
  ca = await StationCa.open(join(dir, 'ca'), new CertificateLedger(db));
  await ca.unlock(wrapper);
  simulator = await Simulator.start({ devices: 3, link: 'pty', baudRate: 0 });
});
afterAll(async () => {
  await simulator.stop();
  ca.lock();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
let giveRoomBack: (() => void) | undefined;
afterEach(() => giveRoomBack?.());

/** One run on simulated device `index`, as a slot runs it; `onStep` sees each step begin. */
async function provision(index: number, onStep: (step: RunProgress['step']) => void = () => {}) {
  const device = simulator.devices[index]!;
  let session: DeviceSession | undefined;
  try {
    const outcome = await runProvisioning({
      port: device.hostPath,
      profile,
      recorder: store,
      services: { ca, leafProfile: leafProfileOf(profile), sealSecret: testSealing().seal },
      session: async () => (session = await DeviceSession.open(createTransport(device.hostPath))),
      onProgress: (progress) => onStep(progress.step),
    });
    return { device, outcome };
  } finally {
    await session?.close();
  }
}

const runState = (runId: number | undefined) =>
  db.prepare(`SELECT state, error_code AS code FROM runs WHERE id = ?`).get(runId);

describe('the line on a station database that fails under it', () => {
  it('fails the slot with a code when the disk fills before the commit, and records it once there is room', async () => {
    let committing = false;
    const { device, outcome } = await provision(0, (step) => {
      // The certificate is issued and recorded; the disk fills while the device commits.
      if (step === 'commit' && !committing) {
        committing = true;
        giveRoomBack = fillDatabase(db);
      }
    });

    expect(outcome).toMatchObject({
      state: 'fail',
      error: {
        code: 'STORE_WRITE_FAILED',
        message: expect.stringMatching(/could not record it.*Check disk space/),
        detail: expect.stringMatching(/committed registration ID .*database or disk is full/),
      },
    });
    // The device holds the identity nobody recorded, which the slot's text says.
    expect(device.state.identityState).toBe(1);
    expect(outcome.state === 'fail' && outcome.error.detail).toContain('[failure not recorded');
    expect(store.outboxCounts().pending).toBe(0);

    giveRoomBack!();
    giveRoomBack = undefined;
    const next = await provision(1);
    expect(next.outcome.state).toBe('pass');
    expect(runState(outcome.runId)).toEqual({ state: 'fail', code: 'STORE_WRITE_FAILED' });
    expect(store.outboxCounts().pending).toBe(1);
  });

  it('refuses the next device before touching it once the data folder is deleted', async () => {
    rmSync(join(dir, 'data'), { recursive: true });
    const { device, outcome } = await provision(2);
    expect(outcome).toMatchObject({
      state: 'fail',
      error: {
        code: 'STORE_DATABASE_MOVED',
        message: expect.stringContaining('put the data folder back'),
      },
    });
    expect(device.state.identityState).toBe(0);
    expect(device.state.staged).toEqual({ config: {} });
  });
});
