/**
 * A real line as a supervisor sets it up: `station ca init`'s CA sealed under a passphrase, a
 * profiles file, a file SQLite store, and devices on real ttys. Eight devices are provisioned
 * at once; three of them are unplugged, stalled or drowned in corrupted bytes mid-run.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { events, resultBySlot } from '../../station/line/testing/lineTestKit.js';
import {
  openProductionStation,
  type ProductionStation,
} from '../../station/production/productionStation.js';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import { StationCa } from '../../certs/stationCa.js';
import { CertificateLedger } from '../../station/store/certificateLedger.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { thisProcess } from '../../station/store/runOwner.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { startDpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { registerFromFlash } from '../../station/demo/fieldRegistration.js';
import { DPS_CA_ENV } from '../../station/production/dpsConnection.js';
import { saveDpsConnectionString } from '../../station/sync/dpsCredentials.js';
import { opensslVerifyLeaf } from './opensslTools.js';

const run = promisify(execFile);
const PASSPHRASE = 'line three passphrase';
const ID_SCOPE = '0ne00000A03';

let dataDir: string;
let profilesFile: string;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;

/** A station data directory with its own CA and profiles file (a fresh store per test). */
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ls-line-'));
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Line 3 TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE),
  });
  profilesFile = join(dataDir, 'profiles.json');
  const profile = {
    name: 'LS-DEMO-1 line 3',
    models: ['LS-DEMO-1'],
    dps: { idScope: ID_SCOPE },
    registrationId: { template: '{model}-{serial}' },
    attestation: { mode: 'x509-device-key', curve: 'P-256' },
    duplicates: 'refuse',
  };
  await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));
});

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  station = undefined;
  simulator = undefined;
});

describe('a real line: station CA, profiles file, file store, 8 devices on ptys', () => {
  it('provisions 8 devices at once; faulty ones fail alone; a second pass follows the duplicate policy', async () => {
    simulator = await Simulator.start({ devices: 8, link: 'pty', baudRate: 0 });
    const devices = simulator.devices;
    const unplugged = devices[5]!.faults.unplugDuringNext('PUT_CERT_CHAIN');
    devices[6]!.onRequest.on((e) => {
      if (e.name === 'PUT_CERT_CHAIN') devices[6]!.faults.stall('forever');
    });
    devices[7]!.onRequest.on((e) => {
      if (e.name === 'SET_CONFIG') devices[7]!.faults.setByteFaults({ drop: 0, corrupt: 1 });
    });
    station = await openProductionStation({
      dataDir,
      profilesFile,
      ports: devices.map((d) => d.hostPath),
      discover: false,
      baudRate: 0,
      mode: 'manual',
      passphrase: PASSPHRASE,
      log: () => undefined,
    });
    const first = events(station.line.onRunEnded, 8);
    station.line.setMode('auto');
    const runs = await first;
    await unplugged;

    expect(resultBySlot(runs)).toEqual({
      1: 'PASS',
      2: 'PASS',
      3: 'PASS',
      4: 'PASS',
      5: 'PASS',
      6: 'WIRE_DISCONNECTED',
      7: 'WIRE_TIMEOUT',
      8: 'WIRE_TIMEOUT',
    });
    const outbox = station.store.listOutbox();
    expect(outbox.map((e) => [e.registrationId, e.status]).sort()).toEqual(
      [1, 2, 3, 4, 5].map((n) => [`ls-demo-1-sim00000${n}`, 'pending']),
    );

    for (const device of devices.slice(0, 5)) {
      const { config, certChain } = device.state.committed;
      const registrationId = `ls-demo-1-${device.serialNumber.toLowerCase()}`;
      expect(config).toMatchObject({
        globalEndpoint: 'global.azure-devices-provisioning.net',
        idScope: ID_SCOPE,
        registrationId,
      });
      // The device holds its leaf and the issuing CA; the root is the station's trust anchor.
      const [leaf, issuing] = certChain!;
      expect(issuing).toEqual(station.ca.chain()[0]);
      const text = await opensslVerifyLeaf(leaf!, station.ca.chain());
      expect(text).toContain(`Subject: CN = ${registrationId}`);
    }
    for (const device of devices.slice(5)) expect(device.state.identityState).toBe(0);

    // Failed runs left their certificates abandoned, never an enrollment.
    const failed = station.store.runs().filter((r) => r.state === 'fail');
    expect(failed.map((r) => r.serialNumber).sort()).toEqual([
      'SIM000006',
      'SIM000007',
      'SIM000008',
    ]);

    // The station restarts with the healthy boards still on their ports. Each still holds its
    // PASS: auto mode shows it again and runs nothing (a restart does not re-run the line).
    const runsBefore = station.store.runs({ limit: 100 }).length;
    await station.stop();
    station = await openProductionStation({
      dataDir,
      profilesFile,
      ports: devices.slice(0, 5).map((d) => d.hostPath),
      discover: false,
      baudRate: 0,
      mode: 'auto',
      passphrase: PASSPHRASE,
      log: () => undefined,
    });
    const restarted = station;
    await vi.waitFor(
      () => expect(restarted.line.slots().map((slot) => slot.state)).toEqual(Array(5).fill('pass')),
      { timeout: 10_000 },
    );
    expect(station.store.runs({ limit: 100 })).toHaveLength(runsBefore);

    // A second pass over them (the operator runs each again): the profile refuses duplicates.
    const secondRuns = events(station.line.onRunEnded, 5);
    for (let slot = 1; slot <= 5; slot++) station.line.provision(slot);
    const second = await secondRuns;
    expect(
      new Set(second.map((r) => (r.outcome.state === 'pass' ? 'PASS' : r.outcome.error.code))),
    ).toEqual(new Set(['RUN_DUPLICATE_DEVICE']));
    expect(station.store.outboxCounts()).toMatchObject({ pending: 5 });
  });

  it('refuses a mistyped passphrase at start in a mode that never signs, before it seals a device key', async () => {
    const symmetric = {
      name: 'LS-DEMO-1 keys',
      models: ['LS-DEMO-1'],
      dps: { idScope: ID_SCOPE },
      registrationId: { template: '{model}-{serial}' },
      attestation: { mode: 'symmetric-key-individual' },
      duplicates: 'refuse',
    };
    await writeFile(profilesFile, JSON.stringify({ profiles: [symmetric] }));
    const open = (passphrase: string) =>
      openProductionStation({
        dataDir,
        profilesFile,
        ports: ['/dev/ttyLS-none'],
        discover: false,
        baudRate: 0,
        mode: 'manual',
        passphrase,
        log: () => undefined,
      });
    await expect(open('line three passphrasE')).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    station = await open(PASSPHRASE);
    // The CA is not left unlocked for a mode that never signs.
    expect(station.line.status().ca.locked).toBe(true);
  });

  it('a start after a crash closes the runs the crash cut off, and says so', async () => {
    // What a station killed mid-run leaves: a run its process never ended.
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const earlier = openStationDatabase(join(dataDir, 'station.db'));
    const cutOff = new ProvisioningStore(earlier, {
      owner: { ...thisProcess(), pid: gone, token: 'killed-station' },
    }).beginRun('/dev/ttyLS-none', 'LS-DEMO-1 line 3', Date.now(), 'auto', {
      serialNumber: 'SN-CUT-1',
      model: 'LS-DEMO-1',
      hardwareRevision: 'A',
      firmwareVersion: '1.2.0',
    });
    // A run another host left open two days ago, on a port this line does not have.
    new ProvisioningStore(earlier, {
      owner: { host: 'line-3-station-b', pid: 7, token: 'station-b' },
    }).beginRun('/dev/ttyLS-b', 'LS-DEMO-1 line 3', Date.now() - 2 * 86_400_000);
    earlier.close();

    const log: string[] = [];
    station = await openProductionStation({
      dataDir,
      profilesFile,
      ports: ['/dev/ttyLS-none'],
      discover: false,
      baudRate: 0,
      mode: 'manual',
      passphrase: PASSPHRASE,
      log: (line) => log.push(line),
    });
    expect(log.join('\n')).toContain(
      `2 run(s) were cut off when the station last stopped: run ${cutOff} on /dev/ttyLS-none (SN-CUT-1, LS-DEMO-1), run ${cutOff + 1} on /dev/ttyLS-b (the device had not answered identify).`,
    );
    expect(station.store.runs({ limit: 2 })[1]).toMatchObject({
      id: cutOff,
      state: 'fail',
      error: { code: 'RUN_INTERRUPTED' },
    });
    // The technician reads the screen, not the log: the line's notes name the port and board.
    // Only this host's port that the line has: the other would keep the note up for good.
    expect(station.line.status().notes.join('\n')).toContain(
      'The station stopped during a run on /dev/ttyLS-none: SN-CUT-1 (LS-DEMO-1) (RUN_INTERRUPTED): those devices have no recorded identity.',
    );
    expect(station.line.status().notes.join('\n')).not.toContain('/dev/ttyLS-b');
  });

  it('`station provision` provisions one device headless; a wrong passphrase is refused with its code', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [device, other] = simulator.devices;
    const cli = (passphrase: string, port: string) =>
      run(
        'npx',
        [
          'tsx',
          'station/cli.ts',
          'provision',
          '--device',
          port,
          '--profiles',
          profilesFile,
          '--baud',
          '115200',
        ],
        {
          env: {
            ...process.env,
            LINE_STATION_DATA: dataDir,
            LINE_STATION_CA_PASSPHRASE: passphrase,
          },
        },
      ).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({
          code: e.code,
          out: e.stdout + e.stderr,
        }),
      );
    const refused = await cli('not the passphrase', other!.hostPath);
    expect(refused.code).toBe(3); // the station could not start: no device was tried
    expect(refused.out).toContain('[CUSTODY_WRONG_PASSPHRASE]');

    const passed = await cli(PASSPHRASE, device!.hostPath);
    expect(passed.out).toMatch(/verify…/);
    expect(passed.out).toContain(`PASS ls-demo-1-${device!.serialNumber.toLowerCase()}`);
    expect(passed.code).toBe(0);
    expect(device!.state.identityState).toBe(1);
  });

  it('syncs to the DPS the supervisor stored, and the devices then register with it', async () => {
    const wrapper = new PassphraseKeyWrapper(PASSPHRASE);
    const db = openStationDatabase(join(dataDir, 'station.db'));
    const ca = await StationCa.open(join(dataDir, 'ca'), new CertificateLedger(db));
    await ca.unlock(wrapper);
    const chainPem = ca.chain().map(certificateToPem);
    ca.lock();
    db.close();
    const emulator = await startDpsEmulator({ verifiedCas: chainPem });
    const caFile = join(dataDir, 'dps-ca.pem');
    await writeFile(caFile, emulator.caCertificatePem);
    process.env[DPS_CA_ENV] = caFile;
    try {
      await saveDpsConnectionString(dataDir, emulator.serviceConnectionString, wrapper);
      const profile = {
        name: 'LS-DEMO-1 line 3 (training DPS)',
        models: ['LS-DEMO-1'],
        dps: { idScope: emulator.idScope, globalEndpoint: emulator.hostName },
        attestation: { mode: 'x509-device-key', curve: 'P-256' },
      };
      const trainingProfiles = join(dataDir, 'training.json');
      await writeFile(trainingProfiles, JSON.stringify({ profiles: [profile] }));
      simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
      station = await openProductionStation({
        dataDir,
        profilesFile: trainingProfiles,
        ports: simulator.devices.map((d) => d.hostPath),
        discover: false,
        baudRate: 0,
        mode: 'auto',
        passphrase: PASSPHRASE,
        log: () => undefined,
      });
      const sync = station.sync!;
      expect(sync).toBeDefined();
      await new Promise<void>((resolve) =>
        sync.onProgress.on((p) => {
          if (p.counts.synced === 2) resolve();
        }),
      );
      expect(emulator.stats()).toMatchObject({ enrollments: 2, enrollmentCreates: 2 });
      for (const device of simulator.devices) {
        const result = await registerFromFlash(device.state.committed, {
          ca: emulator.caCertificatePem,
        });
        expect(result.deviceId).toBe(`ls-demo-1-${device.serialNumber.toLowerCase()}`);
      }
    } finally {
      delete process.env[DPS_CA_ENV];
      await station?.stop();
      station = undefined;
      await emulator.close();
    }
  });
});
