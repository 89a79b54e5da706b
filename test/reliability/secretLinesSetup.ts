/**
 * The set-up of the secrets test (noSecretsAtRest.test.ts): each line's data folder as a
 * supervisor makes it, and the station process (secretLinesProcess.ts) that runs the lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import type { Haystack } from '../../certs/testing/secretNeedles.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { SimulatedDevice } from '../../firmware-bridge/simulator/simulatedDevice.js';
import { keys } from '../../station/cli/keysCommand.js';
import { syncCommand } from '../../station/cli/syncCommand.js';
import { DPS_CA_ENV, dpsClientFor } from '../../station/production/dpsConnection.js';
import type { SecretLine, SecretLines } from './secretLinesProcess.js';

const STATION = join(process.cwd(), 'test', 'reliability', 'secretLinesProcess.ts');
const TSX = pathToFileURL(join(process.cwd(), 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
export const PASSPHRASE = `no secrets at rest ${randomBytes(12).toString('base64url')}`;
export const GROUP_ID = 'line9-group';
export const GROUP_KEY = randomBytes(32).toString('base64');
export const MODES = [
  'x509-station-key',
  'symmetric-key-individual',
  'symmetric-key-group',
] as const;
export type Mode = (typeof MODES)[number];
export const DEVICES_PER_LINE = 2;
export const SETTLE_MS = 60_000;

/** A line of the run: its mode, data folder and devices. */
export interface RunLine extends SecretLine {
  mode: Mode;
  devices: SimulatedDevice[];
}

/** Runs a CLI command in this process as cli.ts would, returning what it printed. */
export async function cli(run: () => Promise<number>): Promise<string> {
  const printed: string[] = [];
  const capture = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  const log = vi.spyOn(console, 'log').mockImplementation(capture);
  const error = vi.spyOn(console, 'error').mockImplementation(capture);
  try {
    const code = await run();
    expect(code, printed.join('\n')).toBe(0);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return printed.join('\n');
}

/** A line's data folder as a supervisor sets it up: CA, profiles file, DPS connection, group key. */
export async function setUpLine(
  root: string,
  mode: Mode,
  devices: SimulatedDevice[],
  emulator: DpsEmulator,
  printed: Haystack[],
): Promise<RunLine> {
  const dataDir = join(root, mode);
  // Cheap scrypt for the CA key: the test is about where secrets go, not about their cost.
  await initStationCa(join(dataDir, 'ca'), {
    name: `No secrets ${mode} TEST`,
    wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
  });
  const profile = {
    name: `LS-DEMO-1 ${mode}`,
    models: ['LS-DEMO-1'],
    dps: { idScope: emulator.idScope, globalEndpoint: emulator.hostName },
    attestation:
      mode === 'x509-station-key'
        ? { mode, curve: 'P-256' }
        : mode === 'symmetric-key-group'
          ? { mode, enrollmentGroupId: GROUP_ID }
          : { mode },
  };
  const profilesFile = join(dataDir, 'profiles.json');
  await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));

  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
  vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
  const setConnection = ['set-connection', '--data-dir', dataDir];
  printed.push({
    where: `${mode}: station sync set-connection`,
    content: Buffer.from(await cli(() => syncCommand(dpsClientFor)(setConnection))),
  });
  if (mode === 'symmetric-key-group') {
    vi.stubEnv('LINE_STATION_GROUP_KEY', GROUP_KEY);
    const setGroup = ['set-group', '--group', GROUP_ID, '--data-dir', dataDir];
    printed.push({
      where: `${mode}: station keys set-group`,
      content: Buffer.from(await cli(() => keys(setGroup))),
    });
    // And in DPS, the enrollment group with that key: the sync confirms its members by it.
    const dps = new DpsServiceClient({
      connectionString: emulator.serviceConnectionString,
      ca: emulator.caCertificatePem,
    });
    try {
      await dps.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: GROUP_ID,
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY } },
      });
    } finally {
      dps.close();
    }
  }
  vi.unstubAllEnvs();
  return {
    name: mode,
    mode,
    dataDir,
    profilesFile,
    ports: devices.map((d) => d.hostPath),
    devices,
  };
}

/** The station process's output so far, and its exit. */
export interface StationProcess {
  child: ChildProcess;
  stdout: Buffer[];
  stderr: Buffer[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout has had `line`; rejects if the process exits first or after `ms`. */
  printed(line: string, ms: number): Promise<void>;
}

/**
 * Starts the station process on `lines`; `onCleanup` gets what kills and waits for it, for the
 * test's teardown.
 */
export function startStation(
  lines: RunLine[],
  cwd: string,
  dpsCaFile: string,
  onCleanup: (cleanup: () => Promise<void>) => void,
): StationProcess {
  const config: SecretLines = {
    lines: lines.map(({ name, dataDir, profilesFile, ports }) => ({
      name,
      dataDir,
      profilesFile,
      ports,
    })),
    settleTimeoutMs: SETTLE_MS,
  };
  // Its own working folder (searched too), so a file written to a relative path is found.
  const child = spawn(process.execPath, ['--import', TSX, STATION, JSON.stringify(config)], {
    cwd,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: join(process.cwd(), 'tsconfig.json'),
      LINE_STATION_CA_PASSPHRASE: PASSPHRASE,
      [DPS_CA_ENV]: dpsCaFile,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then stdout and stderr have given their last bytes.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const printed = (line: string, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => Buffer.concat(stdout).toString().split('\n').includes(line);
      const timer = setTimeout(() => finish(new Error(`no "${line}" in ${ms} ms`)), ms);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        if (err) {
          const out = `${Buffer.concat(stdout).toString()}\n${Buffer.concat(stderr).toString()}`;
          reject(new Error(`${err.message}; the station printed:\n${out}`));
        } else resolve();
      };
      const onData = () => void (seen() && finish());
      child.stdout!.on('data', onData);
      void exited.then(() => (seen() ? finish() : finish(new Error(`exited before "${line}"`))));
      if (seen()) finish();
    });
  return { child, stdout, stderr, exited, printed };
}
