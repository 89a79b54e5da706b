/**
 * `sync set-connection` and `sync status` while a real line serves the same data folder: a line
 * started with no DPS connection runs no sync worker, and does not use one stored meanwhile
 * until it is restarted. set-connection said only "sealed", and status said "Sync worker: not
 * running" of a folder a line was serving. Real parts: `station serve` of a real line (its CA,
 * profile and station database), the real commands, in the same folder.
 */
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeRealLineFolder, type RealLineFolder } from '../../test/e2e/realLineFolder.js';
import { serve } from './serveCommand.js';
import { syncCommand } from './syncCommand.js';

const PASSPHRASE = 'line eight passphrase';
// A DPS that refuses at once: the serving line's worker must not wait on DNS or the network.
const CONNECTION = `HostName=127.0.0.1:1;SharedAccessKeyName=owner;SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`;
let folder: RealLineFolder;
let output: string[];
const sync = syncCommand(() => {
  throw new Error('these commands never call DPS');
});

beforeEach(async () => {
  folder = await makeRealLineFolder(8, PASSPHRASE);
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
  vi.stubEnv('LINE_STATION_DPS_CONNECTION', CONNECTION);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(folder.dataDir, { recursive: true, force: true });
});

/** `station serve` of the folder's line; resolves once it serves, with the way to stop it. */
async function serving(): Promise<{ stop: () => Promise<number> }> {
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  let served!: () => void;
  const up = new Promise<void>((resolve) => (served = resolve));
  const flags = ['--profiles', folder.profilesFile, '--device', '/dev/ttyLS-none'];
  const ended = serve([...flags, '--data-dir', folder.dataDir], {
    until,
    print: (line) => {
      if (line.startsWith('Line Station is serving its UI')) served();
    },
  });
  await Promise.race([up, ended.then(() => Promise.reject(new Error('serve ended early')))]);
  return {
    stop: () => {
      stop();
      return ended;
    },
  };
}

const dataDirFlags = () => ['--data-dir', folder.dataDir];

describe('sync commands while a line started without a DPS connection serves the folder', () => {
  it('say that the serving line runs no sync worker and keeps going without the new connection until restarted', async () => {
    const line = await serving();
    try {
      expect(await sync(['set-connection', ...dataDirFlags()])).toBe(0);
      const process_ = `process ${process.pid} on ${hostname()}, serving since `;
      expect(output[0]).toMatch(/is sealed in /);
      expect(output[1]).toMatch(
        new RegExp(
          `^A station serves this data folder now \\(${process_}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d\\) and runs no sync worker: it started before a DPS connection was stored, so it runs no sync worker\\. It does not use this connection until it is restarted \\(Ctrl-C, then start it again\\)`,
        ),
      );

      output.length = 0;
      expect(await sync(['status', ...dataDirFlags()])).toBe(0);
      const worker = output.find((line) => line.startsWith('Sync worker:'));
      expect(worker).toMatch(
        new RegExp(
          `^Sync worker: not running in the station serving this data folder \\(${process_}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d\\): it started before a DPS connection was stored`,
        ),
      );
      expect(worker).toContain('until it is restarted');
      expect(worker).not.toMatch(/^Sync worker: not running \(a station sends/);
    } finally {
      expect(await line.stop()).toBe(0);
    }

    // Stopped, the line no longer counts as serving.
    output.length = 0;
    expect(await sync(['status', ...dataDirFlags()])).toBe(0);
    expect(output).toContainEqual(expect.stringMatching(/^Sync worker: not running \(a station/));
  });

  it('say that a serving line started with the connection syncs in that line', async () => {
    expect(await sync(['set-connection', ...dataDirFlags()])).toBe(0);
    const line = await serving();
    try {
      output.length = 0;
      expect(await sync(['status', ...dataDirFlags()])).toBe(0);
      expect(output).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^Sync worker: running in the station serving this data folder \\(process ${process.pid} on ${hostname()}, serving since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d\\)$`,
          ),
        ),
      );
      output.length = 0;
      expect(await sync(['set-connection', ...dataDirFlags()])).toBe(0);
      expect(output.at(-1)).toMatch(
        /^A line syncs from this data folder now \(process \d+ on .+\): it keeps the connection it started with\. Restart it/,
      );
    } finally {
      expect(await line.stop()).toBe(0);
    }
  });
});
