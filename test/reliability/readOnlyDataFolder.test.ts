/**
 * A data folder on a read-only disk or mount (a disk the kernel switched to read-only after
 * errors, a mount made `ro` by mistake) stops a line's start with STORE_READ_ONLY, the folder
 * named and what to do, not with "cannot open its database file" (STORE_OPEN_FAILED), which
 * sends a supervisor to look for a missing folder. Real parts: a real tmpfs mounted here and
 * remounted read-only (so root, who passes every permission check, meets the refusal too), a
 * real station CA and database in it, and the real CLI started as its own process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { closeStationDatabase, openStationDatabase } from '../../station/store/stationDatabase.js';

const PASSPHRASE = 'read-only line passphrase';
const mountPoint = mkdtempSync(join(tmpdir(), 'ls-ro-mount-'));

/** Runs mount or umount; the error names what it said. */
function mountCommand(...args: string[]): void {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr || result.error}`);
}

/** Mounts a fresh tmpfs on mountPoint. */
const mountTmpfs = (): void =>
  mountCommand('mount', '-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', mountPoint);

/**
 * Why no tmpfs can be mounted here (not root, no right to mount in this namespace), or
 * undefined. The probe unmounts at once: the suite mounts its own and unmounts it after.
 */
const cannotMount: string | undefined = (() => {
  if (process.platform !== 'linux') return 'tmpfs mounts are Linux only';
  try {
    mountTmpfs();
    mountCommand('umount', mountPoint);
    return undefined;
  } catch (err) {
    rmSync(mountPoint, { recursive: true, force: true });
    return (err as Error).message;
  }
})();

/** A real line's data folder on the mount: CA, profiles and a database of an earlier run. */
async function lineFolder(): Promise<{ dataDir: string; profilesFile: string }> {
  const dataDir = join(mountPoint, 'line');
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Line RO TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE),
  });
  const profile = {
    name: 'LS-DEMO-1 read-only line',
    models: ['LS-DEMO-1'],
    dps: { idScope: '0ne00000A0F' },
    attestation: { mode: 'x509-device-key', curve: 'P-256' },
    duplicates: 'refuse',
  };
  const profilesFile = join(dataDir, 'profiles.json');
  await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));
  closeStationDatabase(openStationDatabase(join(dataDir, 'station.db')));
  return { dataDir, profilesFile };
}

/** `station serve` of the real CLI, from the sources as the tests run them, until it exits. */
async function serveUntilExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const cli = join(process.cwd(), 'station', 'cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', ...args], {
    env: { ...process.env, LINE_STATION_CA_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe.skipIf(cannotMount)('a data folder on a read-only mount', () => {
  let folder: { dataDir: string; profilesFile: string };
  beforeAll(async () => {
    mountTmpfs();
    folder = await lineFolder();
    mountCommand('mount', '-o', 'remount,ro', mountPoint);
  });
  afterAll(() => {
    mountCommand('umount', mountPoint);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('stops the start of a line with STORE_READ_ONLY, naming the folder and what to do', async () => {
    const { dataDir, profilesFile } = folder;
    const started = await serveUntilExit([
      '--profiles',
      profilesFile,
      '--device',
      '/dev/ttyLS-none',
      '--data-dir',
      dataDir,
      '--port',
      '0',
    ]);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain(
      `station: The station data folder ${dataDir} is on a read-only disk or mount, so the station cannot write its database there.`,
    );
    expect(started.stderr).toMatch(/remount it read-write/);
    expect(started.stderr).toContain('[STORE_READ_ONLY]');
    expect(started.stderr).toContain(
      `detail: open ${join(dataDir, 'station.db')}: unable to open database file; EROFS`,
    );
    expect(started.stderr).not.toContain('STORE_OPEN_FAILED');
  });

  it('names the folder that cannot be written, or the one a missing folder would be made in', () => {
    const fresh = join(mountPoint, 'fresh');
    for (const path of [join(mountPoint, 'station.db'), join(fresh, 'station.db')]) {
      expect(() => openStationDatabase(path, { requireWritable: true })).toThrow(
        expect.objectContaining({ code: 'STORE_READ_ONLY' }),
      );
    }
    expect(() => openStationDatabase(join(fresh, 'station.db'))).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(
          `The station data folder ${fresh} cannot be created: ${mountPoint}, where it would be, is on a read-only disk or mount`,
        ),
      }),
    );
  });
});
