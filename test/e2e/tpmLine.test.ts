/**
 * A TPM line as a supervisor sets it up: a station CA sealed under a passphrase (it seals the
 * station's secrets even when no device gets a certificate), a tpm profile whose registration IDs
 * derive from the EK, the TPM vendor's CA certificates dropped into the data folder's trust
 * store, a file store, and devices on real ttys whose TPMs the vendor made; one of them carries
 * what a real TPM 2.0 (swtpm, read with tpm2-tools) holds. The enrollments then sync to the
 * local DPS emulator as TPM individual enrollments, and the board with the real TPM registers
 * in the field with what the station wrote into it, its TPM answering DPS's challenge.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import {
  softwareTpmMissing,
  startSoftwareTpm,
  SWTPM_EK,
  type SoftwareTpm,
} from '../../certs/testing/softwareTpm.js';
import { createTpmVendor, type TpmVendor } from '../../certs/testing/tpmVendorKit.js';
import { ekSha256, registrationIdFromEk } from '../../certs/tpm/ekRegistrationId.js';
import { registerDevice } from '../../dps/device/registrationClient.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { TpmContents } from '../../firmware-bridge/simulator/deviceFirmware.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { events, resultBySlot } from '../../station/line/testing/lineTestKit.js';
import { DPS_CA_ENV } from '../../station/production/dpsConnection.js';
import type { ProductionStation } from '../../station/production/productionStation.js';
import { openLineOnSimulator } from './tpmLineKit.js';
import { saveDpsConnectionString } from '../../station/sync/dpsCredentials.js';

const PASSPHRASE = 'tpm line passphrase';

let vendor: TpmVendor;
let strangers: TpmVendor;
/** A real TPM 2.0 (swtpm), manufactured with an RSA EK and its certificate by its own local CA. */
let softwareTpm: SoftwareTpm;
let softwareTpmContents: TpmContents;
let dataDir: string;
let emulator: DpsEmulator | undefined;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST TPM Maker' });
  strangers = await createTpmVendor({ name: 'TEST Grey Market' });
  // `npm test` installs swtpm and tpm2-tools first: missing, they fail this test.
  if (softwareTpmMissing !== undefined) throw new Error(softwareTpmMissing);
  softwareTpm = await startSoftwareTpm();
  // What the device's firmware reads from its TPM for GET_EK.
  softwareTpmContents = {
    ekPublic: await softwareTpm.readPublic(SWTPM_EK.rsa.handle),
    ekCertificate: await softwareTpm.nvRead(SWTPM_EK.rsa.certificateIndex),
  };
});

afterAll(async () => {
  await softwareTpm?.stop();
});

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ls-tpm-line-'));
  await initStationCa(join(dataDir, 'ca'), {
    name: 'TPM line TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE),
  });
  // What a supervisor does for a TPM maker the station does not ship: drop its CAs in here.
  const trust = join(dataDir, 'trust', 'tpm-vendors');
  await mkdir(trust, { recursive: true });
  await writeFile(join(trust, 'test-maker-root.pem'), vendor.rootPem);
  await writeFile(join(trust, 'test-maker-intermediate.pem'), vendor.intermediatePem);
  await writeFile(join(trust, 'swtpm-localca-root.pem'), softwareTpm.localCaRootPem);
  await writeFile(join(trust, 'swtpm-localca-issuer.pem'), softwareTpm.localCaIntermediatePem);
});

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  await emulator?.close();
  delete process.env[DPS_CA_ENV];
  station = undefined;
  simulator = undefined;
  emulator = undefined;
});

describe('a TPM line: EK checks against the vendor CAs in the data folder, sync to DPS', () => {
  it('enrolls genuine TPMs under EK-derived IDs, refuses a grey-market one and a copied EK, and syncs the EKs to DPS', async () => {
    emulator = await startDpsEmulator();
    const caFile = join(dataDir, 'dps-ca.pem');
    await writeFile(caFile, emulator.caCertificatePem);
    process.env[DPS_CA_ENV] = caFile;
    const wrapper = new PassphraseKeyWrapper(PASSPHRASE);
    await saveDpsConnectionString(dataDir, emulator.serviceConnectionString, wrapper);
    const profilesFile = join(dataDir, 'profiles.json');
    const profile = {
      name: 'Gateway TPM',
      models: ['LS-DEMO-1'],
      dps: { idScope: emulator.idScope, globalEndpoint: emulator.hostName },
      registrationId: { template: '{ek}' },
      attestation: { mode: 'tpm' },
    };
    await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));

    const tpms: TpmContents[] = [
      await vendor.makeEk({ type: 'rsa' }),
      softwareTpmContents,
      await vendor.makeEk({ type: 'rsa' }),
      await strangers.makeEk({ type: 'rsa' }),
    ];
    // A fifth board answers with the first one's EK and certificate: a copy, not a TPM.
    tpms.push(tpms[0]!);
    simulator = await Simulator.start({
      devices: tpms.length,
      link: 'pty',
      baudRate: 0,
      tpm: ({ index }) => tpms[index],
    });
    let logs: string[];
    ({ station, logs } = await openLineOnSimulator(simulator, {
      dataDir,
      profilesFile,
      passphrase: PASSPHRASE,
    }));
    expect(logs.join('\n')).toMatch(/TPM vendor CAs: \d+ of \d+ certificate\(s\) chain to a root/);
    const ended = events(station.line.onRunEnded, tpms.length);
    station.line.setMode('auto');
    const runs = await ended;
    const results = resultBySlot(runs);
    expect(results).toMatchObject({ 2: 'PASS', 3: 'PASS', 4: 'EK_CERT_UNTRUSTED' });
    // The original and its copy run at once: whichever claims the EK first passes; the other is
    // refused before it is written to, while that run holds the EK or once it passed.
    const pair = [results[1], results[5]];
    expect(pair.filter((result) => result === 'PASS')).toHaveLength(1);
    expect(['RUN_EK_ON_ANOTHER_SLOT', 'RUN_EK_ON_ANOTHER_DEVICE']).toContain(
      pair.find((result) => result !== 'PASS'),
    );

    const genuine = tpms.slice(0, 3);
    const ids = genuine.map((tpm) => registrationIdFromEk(tpm.ekPublic));
    const outbox = station.store.listOutbox();
    expect(outbox.map((e) => e.registrationId).sort()).toEqual([...ids].sort());
    for (const [i, device] of simulator.devices.slice(1, 3).entries()) {
      expect(device.state.committed.config).toMatchObject({
        registrationId: ids[i + 1],
        idScope: emulator.idScope,
      });
    }
    expect(simulator.devices[3]!.state.identityState).toBe(0);
    // The grey-market TPM's run keeps its EK's fingerprint, for whoever traces the part.
    const refused = station.store
      .runs({ state: 'fail' })
      .find((run) => run.serialNumber === simulator!.devices[3]!.serialNumber);
    expect(refused?.error?.code).toBe('EK_CERT_UNTRUSTED');
    expect(refused?.evidence?.endorsement?.ekSha256).toBe(ekSha256(tpms[3]!.ekPublic));

    // The sync worker sends them as TPM individual enrollments carrying each EK.
    const sync = station.sync!;
    await new Promise<void>((resolve) => {
      const check = (synced: number) => synced === 3 && resolve();
      check(station!.store.outboxCounts().synced);
      sync.onProgress.on((p) => check(p.counts.synced));
    });
    const dps = new DpsServiceClient({
      connectionString: emulator.serviceConnectionString,
      ca: emulator.caCertificatePem,
    });
    try {
      for (const [i, tpm] of genuine.entries()) {
        const enrollment = await dps.getEnrollment(ids[i]!);
        expect(enrollment?.attestation).toMatchObject({
          type: 'tpm',
          tpm: { endorsementKey: Buffer.from(tpm.ekPublic).toString('base64') },
        });
      }
    } finally {
      dps.close();
    }

    // In the field: the board whose TPM is real boots with the DPS settings the station wrote
    // and registers; only its TPM can open the identity key DPS seals to the enrolled EK.
    const written = simulator.devices[1]!.state.committed.config;
    const field = await registerDevice({
      globalEndpoint: written.globalEndpoint!,
      idScope: written.idScope!,
      registrationId: written.registrationId!,
      auth: { kind: 'tpm', tpm: softwareTpm },
      ca: emulator.caCertificatePem,
      maxPollDelayMs: 100,
    });
    expect(field).toMatchObject({ status: 'assigned', deviceId: ids[1] });
  });
});
