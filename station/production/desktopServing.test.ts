/**
 * The desktop window's line records that it serves its data folder, as `serve` and `start` do:
 * `sync set-connection` and `sync status` said nothing of a line running in the window (they
 * took the folder for idle), and never that it would not sync with a connection stored while it
 * waits locked. Real parts: the core as Electron runs it (runCore over a MessagePort), a saved
 * real line (its CA, profile and station database), the real sync commands on the same folder.
 */
import { writeFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeRealLineFolder, type RealLineFolder } from '../../test/e2e/realLineFolder.js';
import { runCore } from '../api/coreProcess.js';
import { FakeMain } from '../api/testing/fakeElectronMain.js';
import { syncCommand } from '../cli/syncCommand.js';
import { servingStation } from '../sync/servingStation.js';
import { desktopStationFactory } from './desktopStation.js';
import { savedLinePath } from './savedLine.js';

const PASSPHRASE = 'line nine passphrase';
// A DPS that refuses at once; no command here calls it.
const CONNECTION = `HostName=127.0.0.1:1;SharedAccessKeyName=owner;SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`;
let folder: RealLineFolder;
let output: string[];
const sync = syncCommand(() => {
  throw new Error('these commands never call DPS');
});

beforeEach(async () => {
  folder = await makeRealLineFolder(9, PASSPHRASE);
  // The line `station line save` writes: the window runs it.
  await writeFile(
    savedLinePath(folder.dataDir),
    JSON.stringify({
      version: 1,
      profiles: folder.profilesFile,
      devices: ['/dev/ttyLS-none'],
      discover: false,
      baud: 115_200,
      mode: 'auto',
    }),
  );
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  vi.stubEnv('LINE_STATION_DATA', folder.dataDir);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(folder.dataDir, { recursive: true, force: true });
});

/** The desktop core started on the saved line (locked, as the window starts it). */
async function desktopCore(): Promise<{ stop: () => Promise<void> }> {
  const main = new FakeMain();
  runCore({ parentPort: main.parentPort, createStation: desktopStationFactory, log: () => {} });
  main.send({ type: 'start', secretBackend: null });
  expect(await main.next()).toEqual({ type: 'ready' });
  return {
    stop: async () => {
      main.send({ type: 'stop' });
      expect(await main.next()).toEqual({ type: 'stopped' });
    },
  };
}

const serving = `process ${process.pid} on ${hostname()}, serving since `;

describe('a line in the desktop window, to the sync commands', () => {
  it('is the station serving the data folder while it runs, and no longer once stopped', async () => {
    const core = await desktopCore();
    try {
      expect(servingStation(folder.dataDir)).toMatchObject({
        pid: process.pid,
        locked: true,
        connectionAtStart: false,
      });
      expect(await sync(['status'])).toBe(0);
      expect(output).toContainEqual(
        expect.stringMatching(
          new RegExp(`^Sync worker: none in the station serving this data folder \\(${serving}`),
        ),
      );

      vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
      vi.stubEnv('LINE_STATION_DPS_CONNECTION', CONNECTION);
      output.length = 0;
      expect(await sync(['set-connection'])).toBe(0);
      expect(output[1]).toMatch(
        new RegExp(
          `^A station serves this data folder now \\(${serving}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d\\) and runs no sync worker: it started locked, and runs no sync worker until a supervisor unlocks it with a DPS connection stored\\.`,
        ),
      );
    } finally {
      await core.stop();
    }
    expect(servingStation(folder.dataDir)).toBeUndefined();
    output.length = 0;
    expect(await sync(['status'])).toBe(0);
    expect(output).toContainEqual(expect.stringMatching(/^Sync worker: not running \(a station/));
  });
});
