import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { enterInvocationFolder } from './invocationFolder.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const typedIn = mkdtempSync(join(tmpdir(), 'ls-invocation-'));
afterAll(() => rmSync(typedIn, { recursive: true, force: true }));

/** What npm puts in a script's environment for `npm run station -- …` typed in `typedIn`. */
const npmRun = {
  INIT_CWD: typedIn,
  npm_lifecycle_event: 'station',
  npm_lifecycle_script: 'node dist/station/cli.js',
};

function enter(env: NodeJS.ProcessEnv, isDirectory = (): boolean => true) {
  const entered: string[] = [];
  const warnings: string[] = [];
  const folder = enterInvocationFolder(env, {
    chdir: (dir) => void entered.push(dir),
    isDirectory,
    warn: (line) => void warnings.push(line),
  });
  return { folder, entered, warnings };
}

describe('the folder a command was typed in', () => {
  it('is entered under `npm run station` and `npm start`, which run in the install folder', () => {
    expect(enter(npmRun)).toEqual({ folder: typedIn, entered: [typedIn], warnings: [] });
    const start = {
      ...npmRun,
      npm_lifecycle_event: 'start',
      npm_lifecycle_script: 'node dist/station/cli.js start',
    };
    expect(enter(start).entered).toEqual([typedIn]);
  });

  it('is left alone without npm, where the working directory is the typed-in folder', () => {
    expect(enter({}).entered).toEqual([]);
    expect(enter({ INIT_CWD: typedIn }).entered).toEqual([]);
  });

  it('is left alone in a child of another npm script, which chose its working directory', () => {
    // `npm test` spawning the CLI in a scratch folder: the variables are inherited.
    expect(enter({ ...npmRun, npm_lifecycle_event: 'test' }).entered).toEqual([]);
    // Another package's script of the same name.
    expect(enter({ ...npmRun, npm_lifecycle_script: 'vite' }).entered).toEqual([]);
  });

  it('is left alone when npm names no usable folder', () => {
    expect(enter({ ...npmRun, INIT_CWD: '' }).entered).toEqual([]);
    expect(enter({ ...npmRun, INIT_CWD: 'relative/folder' }).entered).toEqual([]);
    expect(enter(npmRun, () => false).entered).toEqual([]);
  });

  it('says so when the folder cannot be entered, and goes on where it is', () => {
    const warnings: string[] = [];
    const folder = enterInvocationFolder(npmRun, {
      chdir: () => {
        throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      },
      isDirectory: () => true,
      warn: (line) => void warnings.push(line),
    });
    expect(folder).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`cannot enter ${typedIn}.*\\(EACCES\\)`)),
    ]);
  });
});

describe('`npm run station -- profiles validate profiles.json` typed in a folder', () => {
  it('reads the file of that folder, not of the install folder the script runs in', async () => {
    writeFileSync(
      join(typedIn, 'profiles.json'),
      JSON.stringify({
        profiles: [
          {
            name: 'Typed-in folder',
            models: ['S-1'],
            dps: { globalEndpoint: '127.0.0.1:8443', idScope: '0ne0012AB34' },
            attestation: { mode: 'x509-device-key' },
          },
        ],
      }),
    );
    // From the sources: the same entry the build bundles, without building it here.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'station', 'cli.ts'),
        'profiles',
        'validate',
        'profiles.json',
      ],
      { cwd: repoRoot, env: { ...process.env, ...npmRun } },
    );
    expect(stdout).toContain('ok  Typed-in folder: x509-device-key');
    expect(stdout).toContain('1 profile valid in profiles.json');
  });
});
