/**
 * Trying a TPM line without TPM hardware, as docs/real-line.md tells a supervisor to: the
 * simulate:tpms script makes the devices' TPM factory contents and its made-up maker's CA
 * certificates; the CAs go into the data folder's trust store, the simulator reads the TPMs with
 * `--tpm-dir`'s reader, and a line with a `tpm` profile provisions every device under the
 * registration ID its EK gives.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { registrationIdFromEk } from '../../certs/tpm/ekRegistrationId.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { tpmFromDirectory } from '../../firmware-bridge/simulator/tpmDirectory.js';
import { makeSimulatedTpms } from '../../scripts/makeSimulatedTpms.js';
import { events, resultBySlot } from '../../station/line/testing/lineTestKit.js';
import type { ProductionStation } from '../../station/production/productionStation.js';
import { openLineOnSimulator } from './tpmLineKit.js';

const PASSPHRASE = 'simulated tpm trial';

let dataDir: string | undefined;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  station = undefined;
  simulator = undefined;
  dataDir = undefined;
});

describe('npm run simulate:tpms', () => {
  it('makes TPMs a tpm line accepts once its CAs are in the trust folder', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ls-sim-tpms-'));
    const { tpmDir, trustDir } = await makeSimulatedTpms({
      out: join(dataDir, 'made'),
      devices: 3,
    });
    expect((await readdir(tpmDir)).sort()).toEqual(
      ['SIM000001', 'SIM000002', 'SIM000003'].flatMap((s) => [`${s}.ekcert`, `${s}.ekpub`]),
    );
    // Run again into the same folder, a new maker's TPMs would sit beside the old maker's.
    await expect(makeSimulatedTpms({ out: join(dataDir, 'made'), devices: 1 })).rejects.toThrow(
      /is not empty/,
    );

    await initStationCa(join(dataDir, 'ca'), {
      name: 'Simulated TPM trial TEST',
      wrapper: new PassphraseKeyWrapper(PASSPHRASE),
    });
    const trust = join(dataDir, 'trust', 'tpm-vendors');
    await mkdir(trust, { recursive: true });
    for (const file of await readdir(trustDir)) {
      await copyFile(join(trustDir, file), join(trust, file));
    }
    const profilesFile = join(dataDir, 'profiles.json');
    const profile = {
      name: 'Simulated TPM trial',
      models: ['LS-DEMO-1'],
      dps: { idScope: '0ne00ABCDEF', globalEndpoint: 'global.azure-devices-provisioning.net' },
      registrationId: { template: '{ek}' },
      attestation: { mode: 'tpm' },
    };
    await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));

    const tpms = tpmFromDirectory(tpmDir);
    simulator = await Simulator.start({ devices: 3, link: 'pty', baudRate: 0, tpm: tpms });
    let logs: string[];
    ({ station, logs } = await openLineOnSimulator(simulator, {
      dataDir,
      profilesFile,
      passphrase: PASSPHRASE,
    }));
    expect(logs.join('\n')).toMatch(/TPM vendor CAs: \d+ of \d+ certificate\(s\) chain to a root/);
    const ended = events(station.line.onRunEnded, 3);
    station.line.setMode('auto');
    expect(resultBySlot(await ended)).toEqual({ 1: 'PASS', 2: 'PASS', 3: 'PASS' });

    const expectedIds = await Promise.all(
      simulator.devices.map(async (device, index) => {
        const contents = await tpms({ index, serialNumber: device.serialNumber });
        return registrationIdFromEk(contents!.ekPublic);
      }),
    );
    expect(
      station.store
        .listOutbox()
        .map((e) => e.registrationId)
        .sort(),
    ).toEqual(expectedIds.sort());
  });
});
