/**
 * "Secrets never on disk in clear, never in logs", over whole station runs. Three real lines run
 * in one station process (secretLinesProcess.ts), each from its own data folder, in the modes
 * that make secrets: x509-station-key (a private key per device, made on the station),
 * symmetric-key-individual (a random key per device, sealed in the outbox and sent to DPS) and
 * symmetric-key-group (the group key stored with `station keys set-group`, device keys derived
 * from it). Each folder has its DPS connection stored with `station sync set-connection`, so the
 * sync worker sends the enrollments to the local DPS emulator. Once the devices passed and the
 * outbox is synced, the station is stopped cleanly, or killed (SIGKILL: the WAL stays on disk).
 *
 * Then every secret (CA passphrase, each line's CA keys, DPS connection string and its key,
 * group key, each device's symmetric key, each station-made private key; keys as PKCS#8 and as
 * scalar) is looked for in every
 * encoding (secretNeedles.ts), also with line breaks taken out (a PEM body), in: every file of
 * the data folders and of the station's working folder, everything the station process wrote
 * (its log lines and stdout/stderr), and what the CLI prints about those folders.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  base64KeyNeedles,
  filesNow,
  keyNeedles,
  search,
  secretEncodings,
  unsealedCaKey,
  type Haystack,
  type Needle,
} from '../../certs/testing/secretNeedles.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { queue } from '../../station/cli/queueCommand.js';
import { syncCommand } from '../../station/cli/syncCommand.js';
import { dpsClientFor } from '../../station/production/dpsConnection.js';
import {
  cli,
  DEVICES_PER_LINE,
  GROUP_KEY,
  MODES,
  PASSPHRASE,
  SETTLE_MS,
  setUpLine,
  startStation,
  type RunLine,
} from './secretLinesSetup.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** The secrets a supervisor gives every line: CA passphrase, DPS connection, group key. */
function supervisorNeedles(emulator: DpsEmulator): Needle[] {
  const sharedAccessKey = /SharedAccessKey=([^;]+)/.exec(emulator.serviceConnectionString)![1]!;
  return [
    ...secretEncodings('CA passphrase', Buffer.from(PASSPHRASE)),
    ...secretEncodings('DPS connection string', Buffer.from(emulator.serviceConnectionString)),
    ...base64KeyNeedles('DPS shared access key', sharedAccessKey),
    ...base64KeyNeedles('group key', GROUP_KEY),
  ];
}

/** Each line's CA keys (issuing and root), unsealed with the passphrase, in every form. */
async function caNeedles(lines: RunLine[]): Promise<Needle[]> {
  const wrapper = new PassphraseKeyWrapper(PASSPHRASE);
  const needles: Needle[] = [];
  for (const line of lines) {
    for (const which of ['issuingKey', 'rootKey'] as const) {
      const key = await unsealedCaKey(join(line.dataDir, 'ca'), which, wrapper);
      needles.push(...keyNeedles(`${line.name} CA ${which}`, key));
    }
  }
  return needles;
}

/**
 * The secrets the run made, read from where they legitimately are: each device's flash (the
 * simulator's state, outside the data folders) and DPS. Checks on the way that each is the key
 * the mode says (so a wrong needle cannot make the search pass).
 */
async function deviceNeedles(lines: RunLine[], emulator: DpsEmulator): Promise<Needle[]> {
  const needles: Needle[] = [];
  const dps = new DpsServiceClient({
    connectionString: emulator.serviceConnectionString,
    ca: emulator.caCertificatePem,
  });
  try {
    for (const line of lines) {
      for (const device of line.devices) {
        const { committed } = device.state;
        const registrationId = committed.config.registrationId!;
        const what = `${registrationId}'s`;
        if (line.mode === 'x509-station-key') {
          const pkcs8 = Buffer.from(committed.identityKey!.pkcs8);
          const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
          const leaf = new X509Certificate(committed.certChain![0]!);
          expect(leaf.subject).toBe(`CN=${registrationId}`);
          // The key the device got is the one its leaf certifies.
          expect(leaf.publicKey.equals(createPublicKey(key))).toBe(true);
          needles.push(
            ...keyNeedles(`${what} private key`, key),
            ...secretEncodings(`${what} private key PKCS#8 as written`, pkcs8),
          );
          continue;
        }
        const deviceKey = Buffer.from(committed.symmetricKey!);
        expect(deviceKey).toHaveLength(32);
        needles.push(...secretEncodings(`${what} device key`, deviceKey));
        if (line.mode === 'symmetric-key-group') {
          const derived = createHmac('sha256', Buffer.from(GROUP_KEY, 'base64'))
            .update(registrationId)
            .digest();
          expect(deviceKey.equals(derived), `${registrationId} holds HMAC(group key, id)`).toBe(
            true,
          );
          continue;
        }
        // The sync sent the device's own key as the primary key; DPS made the secondary one.
        const { symmetricKey } = await dps.getEnrollmentAttestation(registrationId);
        expect(symmetricKey?.primaryKey).toBe(deviceKey.toString('base64'));
        needles.push(...base64KeyNeedles(`${what} DPS secondary key`, symmetricKey!.secondaryKey!));
      }
    }
  } finally {
    dps.close();
  }
  return needles;
}

/** What the supervisor's CLI prints about a data folder: exports, list and sync status. */
async function cliReports(line: RunLine, scratch: string): Promise<Haystack[]> {
  const reports: Haystack[] = [];
  for (const format of ['json', 'csv'] as const) {
    const out = join(scratch, `${line.name}.${format}`);
    const printed = await cli(() =>
      queue(['export', '--format', format, '--out', out, '--data-dir', line.dataDir]),
    );
    reports.push(
      {
        where: `${line.name}: station queue export --format ${format}`,
        content: readFileSync(out),
      },
      {
        where: `${line.name}: station queue export --format ${format} (printed)`,
        content: Buffer.from(printed),
      },
    );
  }
  for (const [command, run] of [
    ['station queue list', () => queue(['list', '--data-dir', line.dataDir])],
    [
      'station sync status',
      () => syncCommand(dpsClientFor)(['status', '--data-dir', line.dataDir]),
    ],
  ] as const) {
    reports.push({ where: `${line.name}: ${command}`, content: Buffer.from(await cli(run)) });
  }
  return reports;
}

/**
 * Runs the three lines in one station process until every device passed and synced, ends the
 * process as `ending` says, and returns everything the run left to search and the needles.
 */
async function runLines(ending: 'stop' | 'kill') {
  const root = mkdtempSync(join(tmpdir(), `ls-secrets-${ending}-`));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const scratch = join(root, 'scratch');
  const cwd = join(root, 'station-cwd');
  mkdirSync(scratch);
  mkdirSync(cwd);
  const emulator = await startDpsEmulator({ host: '127.0.0.1' });
  cleanups.push(() => emulator.close());
  const dpsCaFile = join(scratch, 'dps-ca.pem');
  await writeFile(dpsCaFile, emulator.caCertificatePem);
  const simulator = await Simulator.start({
    devices: DEVICES_PER_LINE * MODES.length,
    link: 'pty',
    baudRate: 0,
  });
  cleanups.push(() => simulator.stop());

  const setupOutput: Haystack[] = [];
  const lines: RunLine[] = [];
  for (const [i, mode] of MODES.entries()) {
    const devices = simulator.devices.slice(i * DEVICES_PER_LINE, (i + 1) * DEVICES_PER_LINE);
    lines.push(await setUpLine(join(root, 'lines'), mode, devices, emulator, setupOutput));
  }

  const station = startStation(lines, cwd, dpsCaFile, (cleanup) => cleanups.push(cleanup));
  await station.printed('SETTLED', SETTLE_MS + 15_000);
  if (ending === 'stop') {
    station.child.stdin!.write('stop\n');
    await station.printed('STOPPED', 30_000);
    expect(await station.exited).toEqual({ code: 0, signal: null });
  } else {
    station.child.kill('SIGKILL');
    expect(await station.exited).toEqual({ code: null, signal: 'SIGKILL' });
  }
  // Read before anything opens the databases again: that would fold the WAL into station.db.
  const atRest = [
    ...lines.flatMap((line) => filesNow(line.dataDir, `${ending}:`)),
    ...filesNow(cwd, `${ending}: station working folder`),
  ];
  const output: Haystack[] = [
    { where: `${ending}: station stdout`, content: Buffer.concat(station.stdout) },
    { where: `${ending}: station stderr`, content: Buffer.concat(station.stderr) },
  ];
  const reports: Haystack[] = [];
  for (const line of lines) reports.push(...(await cliReports(line, scratch)));
  const afterCli = lines.flatMap((line) => filesNow(line.dataDir, `${ending}, after the CLI:`));

  const needles = [
    ...supervisorNeedles(emulator),
    ...(await caNeedles(lines)),
    ...(await deviceNeedles(lines, emulator)),
  ];
  return {
    lines,
    emulator,
    needles,
    atRest,
    output,
    reports,
    haystacks: [...setupOutput, ...atRest, ...output, ...reports, ...afterCli],
  };
}

/** What the run must have done for the search to mean something. */
function expectRealRun(run: Awaited<ReturnType<typeof runLines>>): void {
  const stdout = run.output[0]!.content.toString();
  for (const line of run.lines) {
    // Every device passed, and the station's log lines were captured.
    expect(stdout.match(new RegExp(`^RUN ${line.name} \\d+ PASS `, 'gm'))).toHaveLength(
      DEVICES_PER_LINE,
    );
    expect(stdout).toContain(`LOG ${line.name} DPS sync: on`);
    expect(stdout).toContain(`LOG ${line.name} Line ready: profile "LS-DEMO-1 ${line.mode}"`);
    // Every enrollment synced, as the export says.
    const exported = run.reports.find(
      (r) => r.where === `${line.name}: station queue export --format json`,
    )!;
    const rows = JSON.parse(exported.content.toString()) as { status: string }[];
    expect(rows.map((r) => r.status)).toEqual(Array(DEVICES_PER_LINE).fill('synced'));
    // The files that hold the line's secrets sealed are among those searched.
    for (const file of [
      'station.db',
      join('ca', 'ca.json'),
      join('dps', 'connection.sealed.json'),
    ]) {
      const path = join(line.dataDir, file);
      expect(
        run.atRest.some((h) => h.where.endsWith(path)),
        path,
      ).toBe(true);
    }
  }
  // The individual keys and the station-made keys' enrollments went to DPS; group members did not.
  expect(run.emulator.stats()).toMatchObject({ enrollments: 2 * DEVICES_PER_LINE });
  // Supervisor secrets, 6 CA keys, 2 station-made keys, 4 device keys and 2 DPS keys, each in
  // every form.
  expect(run.needles.length).toBeGreaterThan(250);
}

describe('no secret in clear at rest or in a log, over whole station runs', () => {
  it('the search finds each form of a secret planted in what it searches (so it can fail)', () => {
    const key = createPrivateKey(readFileSync('certs/fixtures/test-device-p256.key.pem'));
    const secret = randomBytes(32);
    const needles = [...keyNeedles('key', key), ...secretEncodings('secret', secret)];
    const planted = (bytes: Buffer) =>
      search(
        [
          {
            where: 'plant',
            content: Buffer.concat([Buffer.from('{"x":"'), bytes, Buffer.from('"}')]),
          },
        ],
        needles,
      );
    for (const needle of needles) expect(planted(needle.bytes)).toContain(`plant: ${needle.what}`);
    // Inside a longer base64 blob at every alignment, and as a PEM body without its header, with
    // real line breaks and with the escaped ones of a JSON string.
    for (const prefix of [3, 4, 5]) {
      const blob = Buffer.concat([randomBytes(prefix), secret, randomBytes(9)]);
      expect(planted(Buffer.from(blob.toString('base64'))).length).toBeGreaterThan(0);
    }
    for (const type of ['pkcs8', 'sec1'] as const) {
      const pem = key.export({ format: 'pem', type }).toString();
      const body = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
      expect(planted(Buffer.from(body.join('\n'))).length).toBeGreaterThan(0);
      expect(planted(Buffer.from(JSON.stringify(body.join('\r\n')))).length).toBeGreaterThan(0);
    }
    expect(planted(Buffer.from('nothing to see'))).toEqual([]);
  });

  it.each(['stop', 'kill'] as const)(
    'three lines (station key, individual key, group key) synced to DPS, the station %s',
    async (ending) => {
      const run = await runLines(ending);
      expectRealRun(run);
      if (ending === 'kill') {
        // The killed station left its WAL (and index) behind: the file where clear text would
        // linger is among those searched.
        for (const line of run.lines) {
          const wal = run.atRest.find((h) =>
            h.where.endsWith(join(line.dataDir, 'station.db-wal')),
          );
          expect(wal?.content.length, `${line.name}: station.db-wal`).toBeGreaterThan(0);
        }
      }
      expect(search(run.haystacks, run.needles)).toEqual([]);
    },
    120_000,
  );
});
