/**
 * The station core as the packaged app runs it: the BUILT dist/electron/coreEntry.js, in an app
 * folder laid out as the package is (package.json, dist/electron, node_modules) with no
 * repository sources beside it, so a file the bundle fails to carry is missing here too. Plain
 * Node stands in for Electron's utilityProcess (fakeParentPort.js); the test plays main and
 * drives the real protocol of station/api/coreProtocol.ts against the DEMO station.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socatOnPath } from '../../firmware-bridge/simulator/ptyPair.js';
import { isExcludedFromPackage } from '../../scripts/packagedFiles.js';
import { buildElectron } from '../../scripts/buildElectron.js';
import { StationClient } from '../../station/api/stationClient.js';
import { CoreChild } from './coreChild.js';
import { descendantsOf, stillRunning, type ProcessId } from './processTree.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

let app: string;
let electronDir: string;
let core: CoreChild | undefined;
let started: ProcessId[] = [];

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'line-station-app-'));
  electronDir = join(app, 'dist', 'electron');
  await buildElectron(electronDir);
  // The package's own package.json ("type": "module", "main"); its node_modules is the
  // repository's (the package's is the same, pruned of devDependencies: checked below).
  copyFileSync(join(repoRoot, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(app, 'node_modules'), 'dir');
}, 60_000);

afterAll(() => {
  // Whatever a failed test left running goes now; the test itself checks nothing was left.
  core?.child.kill('SIGKILL');
  for (const leftover of started.filter(stillRunning)) {
    try {
      process.kill(leftover.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (app) rmSync(app, { recursive: true, force: true });
});

/** How a built file loads a module: ES imports (static, bare, dynamic) and the preload's require. */
const IMPORT_FORMS = [
  /^import\s[^;]*?\sfrom\s*["']([^"']+)["']/gm,
  /^import\s*["']([^"']+)["']/gm,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire\(\s*["']([^"']+)["']\s*\)/g,
];

/** The npm packages a built file loads, by package name. */
function packagesImportedBy(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return IMPORT_FORMS.flatMap((form) => [...source.matchAll(form)].map((match) => match[1] ?? ''))
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

describe('the built core', () => {
  it('is what the package keeps, and imports only packages the package ships', () => {
    const built = readdirSync(electronDir, { recursive: true, encoding: 'utf8' });
    expect(built).toEqual(expect.arrayContaining(['main.js', 'coreEntry.js', 'preload.cjs']));
    for (const file of built) expect(isExcludedFromPackage(`/dist/electron/${file}`)).toBe(false);

    const imported = new Set(
      built
        .filter((f) => /\.(c?js)$/.test(f))
        .flatMap((f) => packagesImportedBy(join(electronDir, f))),
    );
    expect(imported).toContain('better-sqlite3');
    // Packager drops devDependencies; `electron` is the runtime itself, not a shipped package.
    const missing = [...imported].filter(
      (name) => name !== 'electron' && !(name in packageJson.dependencies),
    );
    expect(missing).toEqual([]);
  });

  it('finds the TPM vendor CAs the package carries, from the folder the built code lies in', () => {
    // ekTrust.ts finds the app folder two up from its own file: true only if the built code
    // that holds it lies directly in dist/electron, as its source lies in station/production.
    const built = readdirSync(electronDir, { recursive: true, encoding: 'utf8' });
    const holders = built.filter(
      (f) => /\.js$/.test(f) && readFileSync(join(electronDir, f), 'utf8').includes('tpm-vendors'),
    );
    expect(holders.length).toBeGreaterThan(0);
    for (const file of holders) expect(file).not.toContain('/');
    expect(isExcludedFromPackage('/certs/trust/tpm-vendors/IFX_RSA_RT.pem')).toBe(false);
  });

  it.skipIf(!socatOnPath() || process.platform !== 'linux')(
    'starts the DEMO station, serves the contract on a window port, stops with code 0 and leaves no process',
    async () => {
      // Its own temp folder: the DEMO keeps its simulated flash and CA there and must clear it.
      const temp = join(app, 'tmp');
      mkdirSync(temp);
      // An empty data folder: a line saved on this machine would take the DEMO's place. The
      // DEMO is asked for as `station start` asks the window for it when no line is saved: a
      // folder named by LINE_STATION_DATA alone, with no line, is refused.
      core = new CoreChild(join(electronDir, 'coreEntry.js'), {
        ...process.env,
        TMPDIR: temp,
        LINE_STATION_DATA: join(app, 'data'),
        LINE_STATION_DEMO: '1',
      });

      core.post({ type: 'start', secretBackend: null });
      expect(await core.next(20_000)).toEqual({ type: 'ready' });
      started = descendantsOf(core.child.pid ?? -1);
      // Eight simulated devices, each on a socat pty pair.
      expect(started.filter((p) => p.name === 'socat')).toHaveLength(8);

      const client = new StationClient(core.connectWindow(), { timeoutMs: 10_000 });
      const snapshot = await client.call('snapshot');
      expect(snapshot.status).toMatchObject({ demo: true, profile: expect.stringMatching(/DEMO/) });
      expect(snapshot.slots).toHaveLength(8);

      core.post({ type: 'stop' });
      expect(await core.next(15_000)).toEqual({ type: 'stopped' });
      expect(await core.ended(10_000)).toBe(0);

      // The ptys' watchdogs end socat when the core's pipe closes; give them their grace.
      const deadline = Date.now() + 5_000;
      while (started.some(stillRunning) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(started.filter(stillRunning)).toEqual([]);
      expect(readdirSync(temp)).toEqual([]);
    },
    60_000,
  );
});
