/**
 * An air-gapped line and its outbox bundles, with the real parts: a line with its own CA and no
 * DPS connection provisions simulated devices on real ttys; `station bundle export` seals its
 * outbox onto a "stick" folder; another machine's `station bundle sync` sends it to the local
 * DPS emulator over HTTPS with the station's sync worker and writes the receipt; the line's
 * `station bundle receive` settles its outbox; and the devices then register with DPS using
 * only what the line wrote into their flash.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../certs/stationCa.js';
import { filesUnder, findNeedles, secretEncodings } from '../../certs/testing/secretNeedles.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { bundleCommand } from '../../station/cli/bundleCommand.js';
import { registerFromFlash } from '../../station/demo/fieldRegistration.js';
import { DPS_CA_ENV, dpsClientFor } from '../../station/production/dpsConnection.js';
import { openProductionStation } from '../../station/production/productionStation.js';
import { CertificateLedger } from '../../station/store/certificateLedger.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';

const CA_PASSPHRASE = 'air gap line passphrase';
const BUNDLE_PASSPHRASE = 'the stick passphrase 7';
const bundle = bundleCommand(dpsClientFor);

let lineDir: string;
let officeDir: string;
let stick: string;
let output: string[];
let emulators: DpsEmulator[] = [];

beforeEach(async () => {
  lineDir = await mkdtemp(join(tmpdir(), 'ls-airgap-line-'));
  officeDir = await mkdtemp(join(tmpdir(), 'ls-airgap-office-'));
  stick = await mkdtemp(join(tmpdir(), 'ls-airgap-stick-'));
  await initStationCa(join(lineDir, 'ca'), {
    name: 'Air gap line TEST',
    wrapper: new PassphraseKeyWrapper(CA_PASSPHRASE),
  });
  output = [];
  const keep = (...parts: unknown[]): void => void output.push(parts.join(' '));
  vi.spyOn(console, 'log').mockImplementation(keep);
  vi.spyOn(console, 'error').mockImplementation(keep);
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', CA_PASSPHRASE);
  vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', BUNDLE_PASSPHRASE);
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const emulator of emulators) await emulator.close();
  emulators = [];
});

/** The local DPS, trusting the line's CA chain for X.509 registrations; the office trusts it. */
async function startDps(): Promise<DpsEmulator> {
  const db = openStationDatabase(join(lineDir, 'station.db'));
  const ca = await StationCa.open(join(lineDir, 'ca'), new CertificateLedger(db));
  await ca.unlock(new PassphraseKeyWrapper(CA_PASSPHRASE));
  const chainPem = ca.chain().map(certificateToPem);
  ca.lock();
  db.close();
  const emulator = await startDpsEmulator({ verifiedCas: chainPem });
  emulators.push(emulator);
  const caFile = join(officeDir, `dps-ca-${emulators.length}.pem`);
  await writeFile(caFile, emulator.caCertificatePem);
  vi.stubEnv(DPS_CA_ENV, caFile);
  vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
  return emulator;
}

/** Provisions `devices` simulated devices on the air-gapped line (no DPS connection stored). */
async function provisionOffline(
  attestation: Record<string, unknown>,
  devices: number,
  dps: { idScope: string; globalEndpoint: string },
): Promise<Simulator> {
  const profilesFile = join(lineDir, 'profiles.json');
  await writeFile(
    profilesFile,
    JSON.stringify({
      profiles: [{ name: 'LS-DEMO-1 air gap', models: ['LS-DEMO-1'], dps, attestation }],
    }),
  );
  const simulator = await Simulator.start({ devices, link: 'pty', baudRate: 0 });
  const station = await openProductionStation({
    dataDir: lineDir,
    profilesFile,
    ports: simulator.devices.map((d) => d.hostPath),
    discover: false,
    baudRate: 0,
    mode: 'auto',
    passphrase: CA_PASSPHRASE,
    log: () => undefined,
  });
  try {
    expect(station.sync).toBeUndefined();
    await vi.waitFor(() => expect(station.line.outboxCounts().pending).toBe(devices), {
      timeout: 30_000,
      interval: 50,
    });
  } finally {
    await station.stop();
  }
  return simulator;
}

/** A loopback port nothing listens on (just released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function outboxCounts(): Record<string, number> {
  const db = openStationDatabase(join(lineDir, 'station.db'));
  try {
    const rows = db.prepare('SELECT status, n FROM outbox_counts').all() as {
      status: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

/**
 * Moves one enrollment of the line from `from` to `to` (the line's sync worker taking a row, or
 * handing it back), as that worker's own statement does; returns its id.
 */
function setOneStatus(from: string, to: string, id?: number): number {
  const db = openStationDatabase(join(lineDir, 'station.db'));
  try {
    const row =
      id ??
      (db.prepare('SELECT min(id) FROM enrollments WHERE status = ?').pluck().get(from) as number);
    expect(
      db.prepare('UPDATE enrollments SET status = ? WHERE id = ? AND status = ?').run(to, row, from)
        .changes,
    ).toBe(1);
    return row;
  } finally {
    db.close();
  }
}

describe('station bundle: an air-gapped line syncs through a carried file', () => {
  it('X.509 device keys: export, sync elsewhere, receive; the devices then register', async () => {
    const emulator = await startDps();
    const simulator = await provisionOffline({ mode: 'x509-device-key', curve: 'P-256' }, 3, {
      idScope: emulator.idScope,
      globalEndpoint: emulator.hostName,
    });
    try {
      const file = join(stick, 'line.bundle');
      expect(await bundle(['export', '--data-dir', lineDir, '--out', file, '--by', 'sam'])).toBe(0);
      expect(output.join('\n')).toMatch(/3 enrollment\(s\) \(3 x509-device-key\)/);
      expect(emulator.stats().enrollments).toBe(0);

      expect(await bundle(['sync', file, '--data-dir', officeDir])).toBe(0);
      expect(emulator.stats()).toMatchObject({ enrollments: 3, enrollmentCreates: 3 });
      const receipt = join(stick, 'line.receipt');

      expect(outboxCounts()).toMatchObject({ pending: 3, synced: 0 });
      // The line's own sync holds one row as the receipt comes in (the line went online
      // meanwhile): its answer is left for the next receive, and the command says so.
      const held = setOneStatus('pending', 'syncing');
      expect(await bundle(['receive', receipt, '--data-dir', lineDir, '--by', 'sam'])).toBe(1);
      expect(outboxCounts()).toMatchObject({ syncing: 1, synced: 2 });
      expect(output.join('\n')).toMatch(/2 synced, 0 failed, 0 conflict, 0 still pending/);
      expect(output.at(-1)).toMatch(/^1 row\(s\) were being sent by this station's own sync/);
      // That sync gave up (DPS out of reach again): the row is pending, and the receipt settles it.
      setOneStatus('syncing', 'pending', held);
      expect(await bundle(['receive', receipt, '--data-dir', lineDir, '--by', 'sam'])).toBe(0);
      expect(outboxCounts()).toMatchObject({ pending: 0, synced: 3 });
      expect(output.join('\n')).toMatch(/1 synced, 0 failed, 0 conflict, 0 still pending/);

      // The same receipt again settles nothing twice.
      expect(await bundle(['receive', receipt, '--data-dir', lineDir])).toBe(0);
      expect(output.at(-1)).toMatch(/3 were settled here already/);

      // The office deleted its work folder (as the guide says it may): a sync of the same bundle
      // then creates nothing twice, DPS already holds all three.
      rmSync(join(officeDir, 'bundles'), { recursive: true });
      expect(await bundle(['sync', file, '--data-dir', officeDir])).toBe(0);
      expect(emulator.stats()).toMatchObject({ enrollments: 3, enrollmentCreates: 3 });

      for (const device of simulator.devices) {
        const result = await registerFromFlash(device.state.committed, {
          ca: emulator.caCertificatePem,
        });
        expect(result.deviceId).toBe(`ls-demo-1-${device.serialNumber.toLowerCase()}`);
      }
      expect(await bundle(['list', '--data-dir', lineDir])).toBe(0);
      expect(output.join('\n')).toMatch(/3 enrollment\(s\), 0 still pending; receipt .*3 synced/);
    } finally {
      await simulator.stop();
    }
  });

  it('symmetric keys: the key travels sealed, DPS was unreachable once, the second sync goes on', async () => {
    const dps = await startDps();
    const simulator = await provisionOffline({ mode: 'symmetric-key-individual' }, 2, {
      idScope: dps.idScope,
      globalEndpoint: dps.hostName,
    });
    try {
      const file = join(stick, 'sym.bundle');
      expect(await bundle(['export', '--data-dir', lineDir, '--out', file])).toBe(0);

      // The office tries while DPS cannot be reached: a receipt of nothing answered.
      const reachable = dps.serviceConnectionString;
      vi.stubEnv(
        'LINE_STATION_DPS_CONNECTION',
        reachable.replace(dps.hostName, `127.0.0.1:${await closedPort()}`),
      );
      expect(await bundle(['sync', file, '--data-dir', officeDir])).toBe(1);
      expect(output.join('\n')).toMatch(/0 synced, 0 failed, 0 conflict; 2 without an answer/);
      // Nothing listens on that port: the refusal says so, not "network down".
      expect(output.join('\n')).toMatch(/SYNC_DPS_CONNECTION_REFUSED/);
      const receipt = join(stick, 'sym.receipt');
      expect(await bundle(['receive', receipt, '--data-dir', lineDir])).toBe(1);
      expect(outboxCounts()).toMatchObject({ pending: 2 });

      // DPS is reachable again: the same bundle again, and its new receipt.
      vi.stubEnv('LINE_STATION_DPS_CONNECTION', reachable);
      expect(await bundle(['sync', file, '--data-dir', officeDir])).toBe(0);
      expect(dps.stats()).toMatchObject({ enrollments: 2, enrollmentCreates: 2 });
      expect(await bundle(['receive', receipt, '--data-dir', lineDir])).toBe(0);
      expect(outboxCounts()).toMatchObject({ pending: 0, synced: 2 });

      for (const device of simulator.devices) {
        const key = Buffer.from(device.state.committed.symmetricKey!);
        const needles = secretEncodings(`key of ${device.serialNumber}`, key);
        const found = [stick, join(officeDir, 'bundles')]
          .flatMap((dir) => filesUnder(dir))
          .flatMap((path) => findNeedles(path, readFileSync(path), needles));
        expect(found).toEqual([]);
        const result = await registerFromFlash(device.state.committed, {
          ca: dps.caCertificatePem,
        });
        expect(result.registrationState).toHaveProperty('symmetricKey');
      }
    } finally {
      await simulator.stop();
    }
  });

  it('refuses a wrong passphrase and a receipt from another station, and changes nothing', async () => {
    const emulator = await startDps();
    const simulator = await provisionOffline({ mode: 'x509-device-key', curve: 'P-256' }, 1, {
      idScope: emulator.idScope,
      globalEndpoint: emulator.hostName,
    });
    try {
      const file = join(stick, 'one.bundle');
      expect(await bundle(['export', '--data-dir', lineDir, '--out', file])).toBe(0);
      vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', 'not the stick passphrase');
      await expect(bundle(['sync', file, '--data-dir', officeDir])).rejects.toMatchObject({
        code: 'BUNDLE_WRONG_PASSPHRASE',
      });
      expect(emulator.stats().enrollments).toBe(0);
      vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', BUNDLE_PASSPHRASE);
      await expect(bundle(['receive', file, '--data-dir', lineDir])).rejects.toMatchObject({
        code: 'BUNDLE_WRONG_KIND',
      });
      // A receipt that could not be written is refused before DPS is called.
      await expect(
        bundle(['sync', file, '--data-dir', officeDir, '--receipt', stick]),
      ).rejects.toMatchObject({ code: 'BUNDLE_RECEIPT_TARGET_UNUSABLE' });
      expect(emulator.stats().requests).toBe(0);
      expect(await bundle(['sync', file, '--data-dir', officeDir, '--by', 'kim'])).toBe(0);

      // Another line's data folder never exported this bundle: refused from the receipt's
      // clear header, before anyone is asked for the passphrase (none is given here).
      const otherLine = await mkdtemp(join(tmpdir(), 'ls-airgap-other-'));
      openStationDatabase(join(otherLine, 'station.db')).close();
      vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', '');
      await expect(
        bundle(['receive', join(stick, 'one.receipt'), '--data-dir', otherLine]),
      ).rejects.toMatchObject({ code: 'BUNDLE_UNKNOWN' });
      expect(outboxCounts()).toMatchObject({ pending: 1 });
      // Its one row is carried already; a lost stick is carried again only when asked.
      await expect(bundle(['export', '--data-dir', lineDir, '--out', file])).rejects.toMatchObject({
        code: 'BUNDLE_ALL_CARRIED',
      });
      await expect(
        bundle(['export', '--data-dir', lineDir, '--out', file, '--include-carried']),
      ).rejects.toMatchObject({ code: 'BUNDLE_FILE_EXISTS' });
      // --out naming a folder (the stick itself) puts the default name in it.
      vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', BUNDLE_PASSPHRASE);
      expect(
        await bundle(['export', '--data-dir', lineDir, '--out', stick, '--include-carried']),
      ).toBe(0);
      expect(
        readdirSync(stick).filter((name) => /^line-station-\d{8}-\d{4}\.bundle$/.test(name)),
      ).toHaveLength(1);

      // The receipt says who synced it, and where; the line shows it.
      expect(await bundle(['receive', join(stick, 'one.receipt'), '--data-dir', lineDir])).toBe(0);
      expect(output.join('\n')).toMatch(/Receipt of bundle .* on \S+ by kim\)/);
    } finally {
      await simulator.stop();
    }
  });
});
