/**
 * The native-module check against stand-ins for the Electron binary: Electron cannot run here,
 * but with ELECTRON_RUN_AS_NODE=1 it is a Node, so a shell script that runs this Node in its
 * place loads the real better-sqlite3 the same way. The script refuses to run without
 * ELECTRON_RUN_AS_NODE=1 (the real binary would open a window instead) and changes directory
 * first, so the probe must name the module by its absolute path.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeModulesFailure } from './electronNativeModules.js';

let root: string;
beforeAll(async () => (root = await mkdtemp(join(tmpdir(), 'electron-native-'))));
afterAll(() => rm(root, { recursive: true, force: true }));

/** Writes an executable shell script named `name` under the temp folder and returns its path. */
async function standIn(name: string, body: string): Promise<string> {
  const path = join(root, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** A stand-in that is this Node when run as Node, and fails like a window would otherwise. */
const asNode = (flags = '') =>
  standIn(
    `as-node${flags.replace(/\W/g, '')}`,
    [
      '[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo "Error: ELECTRON_RUN_AS_NODE is not 1" >&2; exit 1; }',
      `cd / && exec ${JSON.stringify(process.execPath)} ${flags} "$@"`,
    ].join('\n'),
  );

const electron = (binary: string) => ({ binary, version: 'v45.4.1' });
const env = { PATH: process.env.PATH };

/** What Electron prints when it dies on an addon built for Node 20 (Node's uncaught-error format). */
const ABI_CRASH = `/work/main/node_modules/bindings/bindings.js:121
        throw e;
        ^

Error: The module '/work/main/node_modules/better-sqlite3/build/Release/better_sqlite3.node'
was compiled against a different Node.js version using
NODE_MODULE_VERSION 115. This version of Node.js requires
NODE_MODULE_VERSION 140. Please try re-compiling or re-installing
the module (for instance, using \`npm rebuild\` or \`npm install\`).
    at process.func [as dlopen] (node:electron/js2c/node_init:2:2617)
    at Module._extensions..node (node:internal/modules/cjs/loader:1470:18)
    at bindings (/work/main/node_modules/bindings/bindings.js:112:48) {
  code: 'ERR_DLOPEN_FAILED'
}

Node.js v22.20.0
`;

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
    const app = join(root, 'app');
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
      /^better-sqlite3 from node_modules does not load in Electron 45\.4\.1 \("ERR_DLOPEN_FAILED: .*addon\.node.*"\) \(for the window, run `npx electron-rebuild -f -o better-sqlite3`, or `npm run make` for an installer\)$/,
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
    const crash = join(root, 'abi-crash.txt');
    await writeFile(crash, ABI_CRASH);
    const binary = await standIn('abi-mismatch', `cat ${JSON.stringify(crash)} >&2\nexit 1`);
    const clause = await nativeModulesFailure(electron(binary), { env });
    const node = process.versions.modules === '115' ? `Node ${process.version}` : 'Node';
    expect(clause).toBe(
      `the native modules in node_modules are built for ${node} (ABI 115), not for Electron 45.4.1 (ABI 140), ` +
        `and loading better-sqlite3 there fails with "Error: The module '/work/main/node_modules/better-sqlite3/build/Release/better_sqlite3.node'" ` +
        '(for the window, run `npx electron-rebuild -f -o better-sqlite3`, or `npm run make` for an installer)',
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
    const output = join(root, 'report.txt');
    await writeFile(output, `line-station-native-check ${JSON.stringify(report)}\n`);
    const binary = await standIn('reports', `cat ${JSON.stringify(output)}`);
    const clause = await nativeModulesFailure(electron(binary), { env });
    expect(clause).toMatch(
      /^the native modules in node_modules are built for Node[^(]* \(ABI 115\), not for Electron 45\.4\.1 \(ABI 140\), and loading better-sqlite3 there fails with "ERR_DLOPEN_FAILED: The module '[^'\n]+better_sqlite3\.node'" \(for the window, run/,
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
    const missing = join(root, 'no-such-electron');
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
