import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordingLine } from '../api/recordingLine.test-double.js';
import type { StationFactory } from '../api/stationFactory.js';
import { locateElectron, missingDisplay, type ElectronRuntime } from './electronRuntime.js';
import { serve } from './serveCommand.js';
import { resolveDataDir } from './dataDir.js';
import { start } from './startCommand.js';
import { useElectronStandIns } from './testing/electronStandIns.js';

/** A factory double that records whether the station was stopped. */
function stationDouble() {
  const state = { started: false, stopped: false };
  const factory: StationFactory = async () => {
    state.started = true;
    return { line: new RecordingLine(), stop: async () => void (state.stopped = true) };
  };
  return { state, factory };
}

/**
 * Runs a headless command until it has printed its URL, fetches the page through it, then lets
 * it stop. Returns what it printed and the HTTP status of the page.
 */
async function runUntilServing(
  run: (deps: {
    createStation: StationFactory;
    print: (line: string) => void;
    until: Promise<unknown>;
  }) => Promise<number>,
) {
  const { state, factory } = stationDouble();
  const printed: string[] = [];
  let release!: () => void;
  const until = new Promise<void>((resolve) => (release = resolve));
  let status = 0;
  const served = new Promise<void>((resolve) => {
    const print = (line: string) => {
      printed.push(line);
      const url = /open (http:\S+) in a browser/.exec(line)?.[1];
      if (url) {
        void fetch(url)
          .then((response) => (status = response.status))
          .finally(() => (release(), resolve()));
      }
    };
    // A run that ends without serving (it launched a window instead) ends the wait too.
    void run({ createStation: factory, print, until }).then((code) => {
      printed.push(`exit ${code}`);
      release();
      resolve();
    });
  });
  await served;
  await until;
  // Let runHeadless finish closing.
  while (!printed.some((l) => l.startsWith('exit '))) await new Promise((r) => setImmediate(r));
  return { printed, status, state };
}

/** Runs `body` with DISPLAY set, so only Electron decides whether the window opens. */
async function withDisplay<T>(body: () => Promise<T>): Promise<T> {
  const saved = process.env.DISPLAY;
  process.env.DISPLAY = ':0';
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = saved;
  }
}

describe('station start', () => {
  const standIns = useElectronStandIns('electron-stand-in-');
  // A home with no line saved, so the DEMO line runs (the double in its place), whatever this
  // machine's own ~/.line-station or LINE_STATION_DATA holds.
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'start-home-'));
    vi.stubEnv('HOME', home);
    vi.stubEnv('LINE_STATION_DATA', '');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(home, { recursive: true, force: true });
  });

  it('runs headless when Electron is missing, saying why in one sentence with the URL', async () => {
    let launched = false;
    const missing: ElectronRuntime = {
      available: false,
      reason:
        'the Electron runtime is not installed on this machine (/x/dist was never downloaded)',
    };
    const { printed, status, state } = await runUntilServing((deps) =>
      start([], {
        ...deps,
        locateElectron: async () => missing,
        launchElectron: async () => ((launched = true), 0),
      }),
    );
    const sentence = printed.find((l) => l.includes('runs the DEMO line headless')) ?? '';
    expect(sentence).toMatch(
      /^The Electron runtime is not installed on this machine \(\/x\/dist was never downloaded\), so Line Station runs the DEMO line headless: open http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43} in a browser\.$/,
    );
    expect(status).toBe(200);
    expect(launched).toBe(false);
    expect(state).toEqual({ started: true, stopped: true });
    expect(printed.at(-1)).toBe('exit 0');
  });

  it('launches the window when Electron runs, loads better-sqlite3 and there is a display', async () => {
    const { state, factory } = stationDouble();
    const launchedWith: [string, Record<string, string>][] = [];
    // Run as Node (as the check runs it), the stand-in is this Node and loads the real addon.
    const binary = await standIns.asNode();
    const launch = (args: string[]) =>
      withDisplay(() =>
        start(args, {
          createStation: factory,
          // Were it to fall back headless, it stops at once and the exit code says so.
          print: () => undefined,
          until: Promise.resolve(),
          locateElectron: async () => ({ available: true, binary, version: 'v45.4.1' }),
          launchElectron: async (launched, env) => (launchedWith.push([launched, env]), 7),
        }),
      );
    expect(await launch([])).toBe(7);
    expect(await launch(['--demo'])).toBe(7);
    // The window's core finds the same data folder, and is told to run the DEMO: no line is
    // saved there, and --demo asks for it.
    expect(launchedWith).toEqual([
      [binary, { LINE_STATION_DATA: resolveDataDir(), LINE_STATION_DEMO: '1' }],
      [binary, { LINE_STATION_DATA: resolveDataDir(), LINE_STATION_DEMO: '1' }],
    ]);
    expect(state.started).toBe(false);
  });

  it('runs headless, saying how to fix it, when Electron cannot load the native modules', async () => {
    let launched = false;
    const binary = await standIns.abiCrash();
    const { printed, status, state } = await withDisplay(() =>
      runUntilServing((deps) =>
        start([], {
          ...deps,
          locateElectron: async () => ({ available: true, binary, version: 'v45.4.1' }),
          launchElectron: async () => ((launched = true), 0),
        }),
      ),
    );
    const sentence = printed.find((l) => l.includes('runs the DEMO line headless')) ?? '';
    expect(sentence).toMatch(
      /^The native modules in node_modules are built for Node[^(]* \(ABI 115\), not for Electron 45\.4\.1 \(ABI 140\), and loading better-sqlite3 there fails with "Error: The module '\/app\/node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node'" \(for the window, install the packaged app: `npm run make` [^)]* until `npm rebuild better-sqlite3` undoes it\), so Line Station runs the DEMO line headless: open http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43} in a browser\.$/,
    );
    expect(status).toBe(200);
    expect(launched).toBe(false);
    expect(state).toEqual({ started: true, stopped: true });
  });

  it('does not look for Electron with --headless', async () => {
    const { printed } = await runUntilServing((deps) =>
      start(['--headless'], {
        ...deps,
        locateElectron: () => Promise.reject(new Error('must not be called')),
      }),
    );
    expect(
      printed.some((l) =>
        l.startsWith('You asked for --headless, so Line Station runs the DEMO line headless'),
      ),
    ).toBe(true);
  });

  it('refuses a bad port', async () => {
    expect(await start(['--headless', '--port', '70000'])).toBe(2);
    expect(await serve(['--demo', '--port', 'x'])).toBe(2);
  });
});

describe('station serve', () => {
  it('needs --demo (or a configured line) and says so', async () => {
    expect(await serve([])).toBe(2);
  });

  it('serves the factory line and stops it when told to', async () => {
    const { printed, status, state } = await runUntilServing((deps) => serve(['--demo'], deps));
    expect(printed.some((l) => /^Line Station is serving its UI: open http/.test(l))).toBe(true);
    expect(status).toBe(200);
    expect(state.stopped).toBe(true);
  });
});

describe('locateElectron', () => {
  let root: string;
  let from: string;
  let packageDir: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'electron-locate-'));
    packageDir = join(root, 'node_modules', 'electron');
    await mkdir(packageDir, { recursive: true });
    await writeFile(join(packageDir, 'package.json'), '{"name":"electron","version":"45.4.1"}');
    // index.js would try to download: finding the runtime must never load it.
    await writeFile(join(packageDir, 'index.js'), 'throw new Error("index.js was loaded")');
    from = join(root, 'probe.js');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('says the runtime was never downloaded when path.txt is missing', async () => {
    const runtime = await locateElectron({ from, env: {} });
    expect(runtime).toEqual({
      available: false,
      reason: `the Electron runtime is not installed on this machine (${join(packageDir, 'dist')} was never downloaded)`,
    });
  });

  it('names the missing binary, then accepts one that prints a version', async () => {
    await writeFile(join(packageDir, 'path.txt'), 'electron');
    const binary = join(packageDir, 'dist', 'electron');
    expect(await locateElectron({ from, env: {} })).toMatchObject({
      available: false,
      reason: expect.stringContaining(`${binary} does not exist`),
    });
    await mkdir(join(packageDir, 'dist'));
    await writeFile(binary, '#!/bin/sh\necho "not electron"\n');
    await chmod(binary, 0o755);
    expect(await locateElectron({ from, env: {} })).toMatchObject({
      available: false,
      reason: expect.stringContaining('does not run here'),
    });
    await writeFile(binary, '#!/bin/sh\n[ "$1" = --version ] && echo v45.4.1\n');
    expect(await locateElectron({ from, env: {} })).toEqual({
      available: true,
      binary,
      version: 'v45.4.1',
    });
  });

  it('says the package is missing when it cannot be resolved at all', async () => {
    const runtime = await locateElectron({ from: join(tmpdir(), 'nowhere', 'x.js'), env: {} });
    expect(runtime).toMatchObject({
      available: false,
      reason: expect.stringContaining('missing from node_modules'),
    });
  });

  it('knows when there is no display on Linux', () => {
    if (process.platform !== 'linux') return;
    expect(missingDisplay({})).toMatch(/no display/);
    expect(missingDisplay({ DISPLAY: ':0' })).toBeUndefined();
    expect(missingDisplay({ WAYLAND_DISPLAY: 'wayland-0' })).toBeUndefined();
  });
});
