/** The native-module check against stand-ins for the Electron binary (testing/electronStandIns.ts). */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeModulesFailure } from './electronNativeModules.js';
import { ABI_CRASH, useElectronStandIns } from './testing/electronStandIns.js';

const standIns = useElectronStandIns('electron-native-');
const { asNode } = standIns;
const standIn = standIns.script;

const electron = (binary: string) => ({ binary, version: 'v45.4.1' });
const env = { PATH: process.env.PATH };

/** A clause is one line with no stack frames in it. */
function expectNoStack(clause: string | undefined): void {
  expect(clause).not.toContain('\n');
  expect(clause).not.toMatch(/\bat \S+ \(/);
}

describe('nativeModulesFailure', () => {
  it('is undefined when the runtime, run as Node, loads the real better-sqlite3', async () => {
    expect(await nativeModulesFailure(electron(await asNode()), { env })).toBeUndefined();
  });

  it('sets ELECTRON_RUN_AS_NODE even when the environment says otherwise', async () => {
    const binary = await asNode();
    expect(
      await nativeModulesFailure(electron(binary), { env: { ...env, ELECTRON_RUN_AS_NODE: '' } }),
    ).toBeUndefined();
  });

  it('reports a real ERR_DLOPEN_FAILED from a better-sqlite3 whose addon is not loadable', async () => {
    // Another module path: a better-sqlite3 whose binary is not a shared library at all.
    const app = join(standIns.folder(), 'app');
    const pkg = join(app, 'node_modules', 'better-sqlite3');
    await mkdir(join(pkg, 'build'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{"name":"better-sqlite3","main":"index.js"}');
    await writeFile(join(pkg, 'index.js'), "module.exports = require('./build/addon.node');");
    await writeFile(join(pkg, 'build', 'addon.node'), 'not a shared library');
    const clause = await nativeModulesFailure(electron(await asNode()), {
      env,
      from: join(app, 'main.js'),
    });
    expect(clause).toMatch(
      /^better-sqlite3 from node_modules does not load in Electron 45\.4\.1 \("ERR_DLOPEN_FAILED: .*addon\.node.*"\) \(for the window, install the packaged app: `npm run make` .* until `npm rebuild better-sqlite3` undoes it\)$/,
    );
    expectNoStack(clause);
  });

  it('reports a runtime that refuses addons, without a rebuild hint', async () => {
    const clause = await nativeModulesFailure(electron(await asNode('--no-addons')), { env });
    expect(clause).toMatch(
      /^better-sqlite3 from node_modules does not load in Electron 45\.4\.1 \("ERR_DLOPEN_DISABLED: [^"\n]+"\)$/,
    );
  });

  it('names both ABIs and the fix when the runtime dies on an addon built for Node', async () => {
    const binary = await standIns.abiCrash();
    const clause = await nativeModulesFailure(electron(binary), { env });
    const node = process.versions.modules === '115' ? `Node ${process.version}` : 'Node';
    expect(clause).toBe(
      `the native modules in node_modules are built for ${node} (ABI 115), not for Electron 45.4.1 (ABI 140), ` +
        `and loading better-sqlite3 there fails with "Error: The module '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'" ` +
        '(for the window, install the packaged app: `npm run make` builds it with its own copy of the modules; ' +
        '`npx electron-rebuild -f -o better-sqlite3` would give the window here, but rebuilds node_modules for Electron, ' +
        'so the Node tests and every headless `npm run station` command fail until `npm rebuild better-sqlite3` undoes it)',
    );
    expectNoStack(clause);
  });

  it('reads the ABIs from the report of a runtime that caught the failure', async () => {
    // What the probe prints inside Electron when require() throws the ABI mismatch.
    const report = {
      modules: '140',
      error: {
        code: 'ERR_DLOPEN_FAILED',
        message: ABI_CRASH.split('\n').slice(4, 9).join('\n').slice(7),
      },
    };
    // Through a file: the message holds backticks, which a shell would run as commands.
    const output = join(standIns.folder(), 'report.txt');
    await writeFile(output, `line-station-native-check ${JSON.stringify(report)}\n`);
    const binary = await standIn('reports', `cat ${JSON.stringify(output)}`);
    const clause = await nativeModulesFailure(electron(binary), { env });
    expect(clause).toMatch(
      /^the native modules in node_modules are built for Node[^(]* \(ABI 115\), not for Electron 45\.4\.1 \(ABI 140\), and loading better-sqlite3 there fails with "ERR_DLOPEN_FAILED: The module '[^'\n]+better_sqlite3\.node'" \(for the window, install the packaged app: `npm run make`/,
    );
    expectNoStack(clause);
  });

  it('gives up after its timeout on a runtime that never answers', async () => {
    const binary = await standIn('hangs', 'exec sleep 30');
    const started = Date.now();
    const clause = await nativeModulesFailure(electron(binary), { env, timeoutMs: 300 });
    expect(clause).toBe(
      `the Electron runtime at ${binary} did not finish loading better-sqlite3 within 300 ms`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('says so when the runtime exits silently or cannot start', async () => {
    const silent = await standIn('silent', 'exit 3');
    expect(await nativeModulesFailure(electron(silent), { env })).toBe(
      `the Electron runtime at ${silent} exited (code 3) without saying whether better-sqlite3 loads`,
    );
    const missing = join(standIns.folder(), 'no-such-electron');
    expect(await nativeModulesFailure(electron(missing), { env })).toBe(
      `the Electron runtime at ${missing} could not be started to check its native modules (spawn ${missing} ENOENT)`,
    );
  });

  it('says better-sqlite3 is missing when it cannot be resolved', async () => {
    const clause = await nativeModulesFailure(electron(await asNode()), {
      env,
      from: join(tmpdir(), 'nowhere', 'main.js'),
    });
    expect(clause).toBe('better-sqlite3 is missing from node_modules (run `npm ci`)');
  });
});
