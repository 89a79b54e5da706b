/**
 * A real line started locked (`station serve --locked`, what a station started at boot and the
 * desktop window do): no passphrase is asked and no port opened until a supervisor types the CA
 * passphrase into the UI. Real CA, real store, a simulated device on a real pty, the real API
 * server and client over a WebSocket.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { runCore } from '../../station/api/coreProcess.js';
import { StationApiError, StationClient } from '../../station/api/stationClient.js';
import {
  electronLike,
  FakeMain,
  rendererPipe,
} from '../../station/api/testing/fakeElectronMain.js';
import { webSocketPipe } from '../../station/api/webSocketPipe.js';
import { serve } from '../../station/cli/serveCommand.js';
import { serveUrlFile } from '../../station/cli/serveUrlFile.js';
import { start } from '../../station/cli/startCommand.js';
import { audit } from '../../station/cli/auditCommand.js';
import { line } from '../../station/cli/lineCommand.js';
import type { SlotView } from '../../station/line/lineTypes.js';
import { saveDpsConnectionString } from '../../station/sync/dpsCredentials.js';
import { servingStation } from '../../station/sync/servingStation.js';
import { workerLine } from '../../station/cli/syncWorkerText.js';
import { oneSimulatedDevicePerTest } from '../../station/line/testing/lineTestKit.js';
import { desktopStationFactory } from '../../station/production/desktopStation.js';
import type { LockedLine } from '../../station/production/lockedLine.js';
import { lockedLineStation } from '../../station/production/lockedLineStation.js';
import { OPENED_BEFORE_OWNERS } from '../../station/store/migrations/008_run_owners.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import {
  closeStationDatabase,
  openStationDatabase,
  openStationDatabaseToRead,
} from '../../station/store/stationDatabase.js';
import { makeRealLineFolder, type RealLineFolder } from './realLineFolder.js';

const PASSPHRASE = 'line eight passphrase';
/** A DPS connection in the form Azure gives it; no test here reaches it. */
const DPS_CONNECTION = `HostName=ls-line8.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`;
const startDevice = oneSimulatedDevicePerTest();
let folder: RealLineFolder;

beforeEach(async () => {
  folder = await makeRealLineFolder(8, PASSPHRASE);
  // Nothing may come from the environment: the passphrase is typed into the UI or not at all.
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(folder.dataDir, { recursive: true, force: true });
});

/** The flags of this test's line on one device port. */
const lineOn = (port: string): string[] => [
  '--profiles',
  folder.profilesFile,
  '--device',
  port,
  '--data-dir',
  folder.dataDir,
];

/**
 * A headless command running until `stop`, with a client connected to the URL it announced (the
 * full one from its serve-url file, since this output is no terminal).
 */
async function runLocked(
  run: (deps: { print: (text: string) => void; until: Promise<unknown> }) => Promise<number>,
): Promise<{
  client: StationClient;
  printed: string[];
  /** The first slot event in `state` from now on. */
  slotReaches(state: SlotView['state']): Promise<SlotView>;
  stop(): Promise<number>;
}> {
  const printed: string[] = [];
  let release!: () => void;
  const until = new Promise<void>((resolve) => (release = resolve));
  let announced!: (url: string) => void;
  const url = new Promise<string>((resolve) => (announced = resolve));
  const print = (text: string): void => {
    printed.push(text);
    const found = /open (http:\S+) in a browser/.exec(text)?.[1];
    if (found) announced(found);
  };
  const exit = run({ print, until });
  const printedUrl = await Promise.race([url, exit.then((code) => `exit ${code}`)]);
  // A real line whose output is no terminal (as here) prints no token: its URL is in serve-url.
  expect(printedUrl).not.toMatch(/token=[\w-]/);
  const page = new URL((await readFile(serveUrlFile(folder.dataDir), 'utf8')).trim());
  const ws = new WebSocket(`ws://${page.host}/api${page.search}`, { origin: page.origin });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const client = new StationClient(webSocketPipe(ws));
  return {
    client,
    printed,
    slotReaches: (state) => nextSlotIn(client, state),
    stop: async () => {
      client.close();
      release();
      return exit;
    },
  };
}

/** The first slot the station reports in `state` from now on. */
function nextSlotIn(client: StationClient, state: SlotView['state']): Promise<SlotView> {
  return new Promise((resolve) => {
    const dispose = client.on('slot', (slot) => {
      if (slot.state !== state) return;
      dispose();
      resolve(slot);
    });
  });
}

async function refusal(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof StationApiError ? err.code : `no refusal: ${String(err)}`;
}

describe('a line started locked', () => {
  it('serve --locked shows the line, refuses a wrong passphrase, and runs once unlocked', async () => {
    const device = await startDevice();
    const served = await runLocked(({ print, until }) =>
      serve(['--locked', ...lineOn(device.hostPath)], { print, until, terminal: false }),
    );
    try {
      const { client } = served;
      const locked = await client.call('snapshot');
      expect(locked.status).toMatchObject({
        awaitingPassphrase: true,
        demo: false,
        profile: 'LS-DEMO-1 line 8',
        mode: 'auto',
        ca: { locked: true },
      });
      expect(locked.status.ca.subject).toContain('Line 8 TEST');
      expect(locked.slots).toEqual([]);
      expect(locked.status.sync).toBeUndefined();
      expect(locked.outbox).toEqual({ pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 });
      expect(await refusal(client.call('setMode', { mode: 'manual' }))).toBe('LINE_LOCKED');

      expect(await refusal(client.call('unlock', { passphrase: 'not the passphrase' }))).toBe(
        'CUSTODY_WRONG_PASSPHRASE',
      );
      expect((await client.call('snapshot')).status.awaitingPassphrase).toBe(true);
      expect(servingStation(folder.dataDir)).toMatchObject({ locked: true });

      const pass = served.slotReaches('pass');
      expect(await client.call('unlock', { passphrase: PASSPHRASE })).toBeNull();
      // What `sync status` reads of the serving line: no longer locked, and no connection was
      // stored when it was unlocked (so it runs no sync worker).
      const serving = servingStation(folder.dataDir);
      expect(serving).toMatchObject({ locked: false, connectionAtStart: false });
      expect(Date.parse(serving?.unlockedAt ?? '')).toBeGreaterThan(Date.parse(serving!.since));
      expect(workerLine({ worker: undefined, serving, connected: true }, folder.dataDir)).toContain(
        'it was unlocked before a DPS connection was stored, so it runs no sync worker',
      );
      const passed = await pass;
      expect(passed.port).toBe(device.hostPath);
      const running = await client.call('snapshot');
      expect(running.status.awaitingPassphrase).toBeUndefined();
      expect(running.status.ca.locked).toBe(false);
      expect(running.outbox.pending).toBe(1);
      expect(await refusal(client.call('unlock', { passphrase: PASSPHRASE }))).toBe(
        'STATION_NOT_LOCKED',
      );
    } finally {
      expect(await served.stop()).toBe(0);
    }
    const log = served.printed.join('\n');
    expect(log).toContain('The line waits for the CA passphrase');
    expect(log).toContain('A wrong CA passphrase was typed to unlock the line (1 in a row).');
    expect(log).toContain('The line was unlocked at the workstation and runs.');
    // A served line logs each run's end, with the id `runs show` takes.
    expect(log).toMatch(/^slot 1 \/dev\/\S+: PASS ls-demo-1-\S+ \(run \d+\)$/m);
    expect(log).not.toContain(PASSPHRASE);
    expect(log).not.toContain('not the passphrase');
    // The same lines are kept in the data folder, from the start to the stop.
    const kept = await readFile(join(folder.dataDir, 'logs', 'station.log'), 'utf8');
    expect(kept).toMatch(/^\S+ Line Station starts \(process \d+, data folder .+\)\.$/m);
    expect(kept).toContain('The line was unlocked at the workstation and runs.');
    expect(kept).toMatch(/^\S+ slot 1 \/dev\/\S+: PASS ls-demo-1-\S+ \(run \d+\)$/m);
    expect(kept).toMatch(/Line Station stopped\.\n$/);
    expect(kept).not.toContain(PASSPHRASE);
    expect(kept).not.toContain('not the passphrase');
    expect(kept).not.toContain('token=');

    // The audit trail keeps the unlock and the wrong try before it, never a passphrase.
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    expect(await audit(['--kind', 'line.unlocked', '--json', '--data-dir', folder.dataDir])).toBe(
      0,
    );
    expect(JSON.parse(printed.join('\n'))).toMatchObject([
      { kind: 'line.unlocked', detail: { profile: 'LS-DEMO-1 line 8', wrongTriesBefore: 1 } },
    ]);
    expect(printed.join('\n')).not.toContain(PASSPHRASE);
  });

  it('keeps wrong passphrases in the audit trail even when the line is never unlocked', async () => {
    // No station database yet: the first wrong passphrase is what creates it.
    const served = await runLocked(({ print, until }) =>
      serve(['--locked', ...lineOn('/dev/ttyLS-none')], { print, until, terminal: false }),
    );
    try {
      for (let i = 0; i < 3; i++) {
        expect(
          await refusal(served.client.call('unlock', { passphrase: `guess number ${i}` })),
        ).toBe('CUSTODY_WRONG_PASSPHRASE');
      }
      expect(await refusal(served.client.call('unlock', { passphrase: PASSPHRASE }))).toBe(
        'STATION_UNLOCK_WAIT',
      );
    } finally {
      expect(await served.stop()).toBe(0);
    }
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    expect(await audit(['--json', '--data-dir', folder.dataDir])).toBe(0);
    const via = 'the unlock form at the workstation';
    // Newest first; the try refused for its wait never reached the CA and is not a guess.
    expect(JSON.parse(printed.join('\n'))).toEqual([
      expect.objectContaining({
        kind: 'line.unlock-refused',
        actor: 'station',
        subject: 'line',
        detail: { profile: 'LS-DEMO-1 line 8', inARow: 3, nextTryAfterSeconds: 10, via },
      }),
      expect.objectContaining({ detail: { profile: 'LS-DEMO-1 line 8', inARow: 2, via } }),
      expect.objectContaining({ detail: { profile: 'LS-DEMO-1 line 8', inARow: 1, via } }),
    ]);
    expect(printed.join('\n')).not.toContain('guess number');
  });

  it('start --locked runs the saved line locked; --locked with no saved line is refused', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await start(['--locked', '--headless', '--demo'])).toBe(2);
    expect(errors.at(-1)).toContain('--demo runs the DEMO line and takes no --locked');
    vi.stubEnv('LINE_STATION_DATA', folder.dataDir); // nothing saved there yet
    expect(await start(['--locked', '--headless'])).toBe(2);
    expect(errors.at(-1)).toContain('--locked applies to a saved line');

    expect(await line(['save', ...lineOn('/dev/ttyLS-none')])).toBe(0);
    // A stored DPS connection shows while locked, though it opens only with the passphrase.
    await saveDpsConnectionString(
      folder.dataDir,
      DPS_CONNECTION,
      new PassphraseKeyWrapper(PASSPHRASE),
    );
    // On one address other than loopback, the line could never be unlocked: refused up front.
    const elsewhere = [
      '--locked',
      '--headless',
      '--host',
      '10.1.2.3',
      '--data-dir',
      folder.dataDir,
    ];
    expect(await start(elsewhere)).toBe(2);
    expect(errors.at(-1)).toContain("--locked needs the UI on this workstation's loopback");
    expect(await serve(['--locked', '--host', '10.1.2.3', ...lineOn('/dev/ttyLS-none')])).toBe(2);
    expect(errors.at(-1)).toContain("--locked needs the UI on this workstation's loopback");
    const started = await runLocked(({ print, until }) =>
      start(['--locked', '--headless', '--data-dir', folder.dataDir], {
        print,
        until,
        terminal: false,
      }),
    );
    try {
      const snapshot = await started.client.call('snapshot');
      expect(snapshot.status.awaitingPassphrase).toBe(true);
      expect(snapshot.status.profile).toBe('LS-DEMO-1 line 8');
      expect(snapshot.status.sync).toEqual({ state: 'locked', connection: 'unknown' });
    } finally {
      expect(await started.stop()).toBe(0);
    }
    expect(started.printed.join('\n')).toContain(
      'You asked for --headless, so Line Station runs the line saved in',
    );
  });

  it('the desktop core runs the saved line locked, and the window unlocks it', async () => {
    const device = await startDevice();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await line(['save', ...lineOn(device.hostPath)])).toBe(0);
    vi.stubEnv('LINE_STATION_DATA', folder.dataDir);
    const main = new FakeMain();
    const logs: string[] = [];
    runCore({
      parentPort: main.parentPort,
      createStation: desktopStationFactory,
      log: (text) => logs.push(text),
    });
    main.send({ type: 'start', secretBackend: null });
    expect(await main.next()).toEqual({ type: 'ready' });
    const channel = new MessageChannel();
    main.send({ type: 'connect-ui' }, [electronLike(channel.port1)]);
    const client = new StationClient(rendererPipe(channel.port2));
    try {
      expect((await client.call('snapshot')).status.awaitingPassphrase).toBe(true);
      const pass = nextSlotIn(client, 'pass');
      await client.call('unlock', { passphrase: PASSPHRASE });
      expect((await pass).port).toBe(device.hostPath);
    } finally {
      client.close();
      main.send({ type: 'stop' });
      expect(await main.next()).toEqual({ type: 'stopped' });
      channel.port1.close();
    }
    expect(logs.join('\n')).not.toContain(PASSPHRASE);
    // The window has no terminal: its line's log is kept in the data folder.
    const kept = await readFile(join(folder.dataDir, 'logs', 'station.log'), 'utf8');
    expect(kept).toContain('The line was unlocked at the workstation and runs.');
    expect(kept).toMatch(/Line Station stopped\.\n$/);
    expect(kept).not.toContain(PASSPHRASE);
  });

  it('an unlock that fails after the passphrase frees what it took, and the retry names the cut-off run', async () => {
    const device = await startDevice();
    await saveDpsConnectionString(
      folder.dataDir,
      DPS_CONNECTION,
      new PassphraseKeyWrapper(PASSPHRASE),
    );
    // A run a crash left open (its owner unknown), as the next start finds it.
    const database = join(folder.dataDir, 'station.db');
    const db = openStationDatabase(database);
    const cutOff = new ProvisioningStore(db).beginRun(
      '/dev/ttyLS-gone',
      'LS-DEMO-1 line 8',
      Date.now(),
    );
    db.prepare('UPDATE runs SET owner_token = ? WHERE id = ?').run(OPENED_BEFORE_OWNERS, cutOff);
    closeStationDatabase(db);
    const runState = (): unknown => {
      const reader = openStationDatabaseToRead(database);
      try {
        return reader.prepare('SELECT state FROM runs WHERE id = ?').pluck().get(cutOff);
      } finally {
        reader.close();
      }
    };

    vi.stubEnv('LINE_STATION_DPS_CA', join(folder.dataDir, 'no-such-ca.pem'));
    const logs: string[] = [];
    const open = await lockedLineStation(
      {
        dataDir: folder.dataDir,
        profilesFile: folder.profilesFile,
        ports: [device.hostPath],
        discover: false,
        baudRate: 0,
      },
      'manual',
    );
    const station = await open({ log: (text) => logs.push(text) });
    const line = station.line as LockedLine;
    try {
      await expect(line.unlock(PASSPHRASE)).rejects.toThrow('LINE_STATION_DPS_CA names');
      // The cause reaches the log, though the error had no code of its own.
      expect(logs.join('\n')).toContain('LINE_STATION_DPS_CA names');
      expect(line.status().notes.join('\n')).toContain('The last unlock failed');
      // Nothing was decided for the retry: the cut-off run is still open, the database free.
      expect(runState()).toBe('running');

      vi.stubEnv('LINE_STATION_DPS_CA', '');
      await line.unlock(PASSPHRASE);
      expect(line.unlocked).toBe(true);
      expect(runState()).toBe('fail');
      expect(logs.join('\n')).toContain(
        `run ${cutOff} on /dev/ttyLS-gone (the device had not answered identify)`,
      );
      expect(line.status().notes.join('\n')).not.toContain('The last unlock failed');
    } finally {
      await station.stop();
    }
  });
});
