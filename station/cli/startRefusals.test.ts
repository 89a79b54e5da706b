/**
 * Why a real line's start stops, as the supervisor meets it: in the terminal with a stable code,
 * and in the data folder's station.log. Real CA, real SQLite, a simulated device on a real pty and
 * a real socket holding the UI's port on 127.0.0.1.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeRealLineFolder, type RealLineFolder } from '../../test/e2e/realLineFolder.js';
import { oneSimulatedDevicePerTest } from '../line/testing/lineTestKit.js';
import { logFolder, LOG_FILE_NAME } from '../production/stationLogFile.js';
import { AuditLog, type AuditEvent } from '../store/auditLog.js';
import { openStationDatabaseToRead } from '../store/stationDatabase.js';
import { stationPaths } from './dataDir.js';
import { line } from './lineCommand.js';
import { serve } from './serveCommand.js';
import { start } from './startCommand.js';

const PASSPHRASE = 'line nine passphrase';
const startDevice = oneSimulatedDevicePerTest();
let folder: RealLineFolder;
let holder: Server | undefined;

beforeEach(async () => {
  folder = await makeRealLineFolder(9, PASSPHRASE);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await new Promise((done) => (holder ? holder.close(done) : done(undefined)));
  holder = undefined;
  await rm(folder.dataDir, { recursive: true, force: true });
});

/** A port on 127.0.0.1 that another program holds for the rest of the test. */
async function takenPort(): Promise<number> {
  const server = createServer();
  holder = server;
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return (server.address() as AddressInfo).port;
}

/** The trail's `ca.passphrase-refused` events, newest first. */
function passphraseRefusals(): AuditEvent[] {
  const db = openStationDatabaseToRead(stationPaths(folder.dataDir).database);
  try {
    return new AuditLog(db).list('ca.passphrase-refused');
  } finally {
    db.close();
  }
}

const logText = (): Promise<string> =>
  readFile(join(logFolder(folder.dataDir), LOG_FILE_NAME), 'utf8');

/** What a command threw, or a sentence saying it did not throw. */
async function thrown(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    (value) => `no refusal: ${String(value)}`,
    (err: unknown) => err,
  );
}

describe('a real line whose UI port is taken', () => {
  it('is refused with a code before any device port opens, and the log says why', async () => {
    const device = await startDevice();
    let requests = 0;
    device.onRequest.on(() => (requests += 1));
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    const port = await takenPort();
    const printed: string[] = [];
    const err = await thrown(
      serve(
        [
          '--profiles',
          folder.profilesFile,
          '--device',
          device.hostPath,
          '--data-dir',
          folder.dataDir,
          '--port',
          String(port),
        ],
        { print: (text) => printed.push(text), until: new Promise(() => undefined) },
      ),
    );
    expect(err).toMatchObject({
      code: 'STATION_PORT_IN_USE',
      message: `Port ${port} on 127.0.0.1 is already in use by another program, so Line Station did not start and opened no device port: pick another with --port PORT, or stop what holds it.`,
    });
    // The line never opened: no store, no slot, no run; the device heard nothing.
    expect(existsSync(stationPaths(folder.dataDir).database)).toBe(false);
    expect(printed.join('\n')).not.toMatch(/Line ready|RUN_INTERRUPTED/);
    expect(requests).toBe(0);
    const log = await logText();
    expect(log).toMatch(
      new RegExp(
        `^\\S+ Line Station did not start \\(process \\d+, data folder .+\\): Port ${port} on 127\\.0\\.0\\.1 is already in use .* \\(STATION_PORT_IN_USE\\)\\n$`,
      ),
    );
    expect(log).not.toContain('token=');
    expect(log).not.toContain(PASSPHRASE);
  });
});

describe('a start refused before the line runs', () => {
  it('keeps a saved line whose profiles file broke in the log, with its code', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const device = await startDevice();
    expect(
      await line([
        'save',
        '--profiles',
        folder.profilesFile,
        '--device',
        device.hostPath,
        '--data-dir',
        folder.dataDir,
      ]),
    ).toBe(0);
    await unlink(folder.profilesFile);
    const err = await thrown(start(['--headless', '--data-dir', folder.dataDir]));
    expect(err).toMatchObject({ code: 'PROFILE_UNREADABLE' });
    expect(await logText()).toMatch(
      /^\S+ Line Station did not start \(process \d+, data folder .+\): .*profiles\.json.* \(PROFILE_UNREADABLE\)\n$/,
    );
  });

  it('records a wrong passphrase typed at `start` in the audit trail, never the passphrase', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const device = await startDevice();
    const flags = ['--profiles', folder.profilesFile, '--device', device.hostPath];
    expect(await line(['save', ...flags, '--data-dir', folder.dataDir])).toBe(0);
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'a guess at line nine');
    const err = await thrown(start(['--headless', '--data-dir', folder.dataDir]));
    expect(err).toMatchObject({ code: 'CUSTODY_WRONG_PASSPHRASE' });
    const refusals = passphraseRefusals();
    expect(refusals).toEqual([
      expect.objectContaining({
        subject: 'ca',
        detail: { command: 'start', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
    ]);
    expect(JSON.stringify(refusals)).not.toContain('a guess at line nine');
  });

  it('keeps a wrong passphrase in the log once, and writes nothing into a folder that is not there', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'not the passphrase at all');
    const flags = ['--profiles', folder.profilesFile, '--device', '/dev/ttyLS-none'];
    const wrong = await thrown(
      serve([...flags, '--data-dir', folder.dataDir], {
        print: () => undefined,
        until: new Promise(() => undefined),
      }),
    );
    expect(wrong).toMatchObject({ code: 'CUSTODY_WRONG_PASSPHRASE' });
    const log = await logText();
    expect(log.match(/did not start/g)).toHaveLength(1);
    expect(log).toMatch(/did not start: .* \(CUSTODY_WRONG_PASSPHRASE\)\n$/);
    expect(log).not.toContain('not the passphrase at all');
    // And in the audit trail, as a guess typed at any other command is.
    expect(passphraseRefusals()).toEqual([
      expect.objectContaining({
        kind: 'ca.passphrase-refused',
        actor: `supervisor:${userInfo().username}`,
        detail: { command: 'serve', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
    ]);

    // A mistyped folder: refused (no CA there), and not made into a data folder by its log.
    const mistyped = join(folder.dataDir, 'no-such-folder');
    const missing = await thrown(serve([...flags, '--data-dir', mistyped]));
    expect(missing).toMatchObject({ code: 'STATION_NOT_CONFIGURED' });
    expect(existsSync(mistyped)).toBe(false);
  });
});
