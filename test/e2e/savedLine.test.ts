/**
 * A workstation set up once: the supervisor saves the line (`station line save`), and from then
 * on `station start` (what `npm start` runs) and `station serve` run that real line, not the
 * DEMO, with nothing on their command line but the data folder.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { line } from '../../station/cli/lineCommand.js';
import { serve } from '../../station/cli/serveCommand.js';
import { start } from '../../station/cli/startCommand.js';
import { savedLinePath } from '../../station/production/savedLine.js';
import { makeRealLineFolder, type RealLineFolder } from './realLineFolder.js';

const PASSPHRASE = 'line five passphrase';
let folder: RealLineFolder;
let printed: string[];

beforeEach(async () => {
  folder = await makeRealLineFolder(5, PASSPHRASE);
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(folder.dataDir, { recursive: true, force: true });
});

/**
 * Runs a headless command until it announces its URL, loads the page through it, then stops it.
 * Returns what it printed (its log included) and the page's HTTP status.
 */
async function serveUntilLoaded(
  run: (deps: { print: (text: string) => void; until: Promise<unknown> }) => Promise<number>,
): Promise<{ lines: string[]; status: number; code: number }> {
  const lines: string[] = [];
  let release!: () => void;
  const until = new Promise<void>((resolve) => (release = resolve));
  let status = 0;
  const print = (text: string): void => {
    lines.push(text);
    const url = /open (http:\S+) in a browser/.exec(text)?.[1];
    if (url) {
      void fetch(url)
        .then((response) => (status = response.status))
        .finally(release);
    }
  };
  const code = await run({ print, until });
  return { lines, status, code };
}

const save = (...flags: string[]) =>
  line(['save', '--profiles', folder.profilesFile, '--data-dir', folder.dataDir, ...flags]);

describe('the saved line', () => {
  it('`station start` runs it headless and says so; `serve` runs it too; forget brings back the DEMO', async () => {
    expect(await save('--device', '/dev/ttyLS-none')).toBe(0);
    expect(printed.join('\n')).toContain(
      `Saved in ${savedLinePath(folder.dataDir)}: "LS-DEMO-1 line 5" on /dev/ttyLS-none, 115200 baud, auto mode.`,
    );

    const started = await serveUntilLoaded((deps) =>
      start(['--headless', '--data-dir', folder.dataDir], deps),
    );
    expect(started.code).toBe(0);
    expect(started.status).toBe(200);
    const startLog = started.lines.join('\n');
    expect(startLog).toContain(
      `You asked for --headless, so Line Station runs the line saved in ${savedLinePath(folder.dataDir)} headless: open http://127.0.0.1:`,
    );
    expect(startLog).toContain(
      'Line ready: profile "LS-DEMO-1 line 5" (x509-device-key), 1 slot(s), auto mode',
    );
    expect(startLog).not.toContain('DEMO CA');

    const served = await serveUntilLoaded((deps) =>
      serve(['--data-dir', folder.dataDir, '--manual'], deps),
    );
    expect(served.status).toBe(200);
    expect(served.lines.join('\n')).toContain('1 slot(s), manual mode');

    // A flag the saved line would override is refused, not ignored.
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    expect(await serve(['--data-dir', folder.dataDir, '--baud', '9600'])).toBe(2);
    expect(errors.at(-1)).toContain('--baud needs --profiles');
    // forget takes the folder only: it never reads as forgetting one port.
    await expect(
      line(['forget', '--device', '/dev/ttyLS-none', '--data-dir', folder.dataDir]),
    ).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });

    printed = [];
    expect(await line(['forget', '--data-dir', folder.dataDir])).toBe(0);
    expect(await line(['show', '--data-dir', folder.dataDir])).toBe(0);
    expect(printed.at(-1)).toContain('`station start` runs the DEMO line');
    // With nothing saved, a folder given to start would pass the DEMO off as that line.
    expect(await start(['--headless', '--data-dir', folder.dataDir])).toBe(2);
    expect(errors.at(-1)).toContain(`no line is saved in ${folder.dataDir}`);
    expect(await start(['--demo', '--data-dir', folder.dataDir])).toBe(2);
  });

  it('a service starts it unlocked by its systemd credential, with no variable and no terminal', async () => {
    expect(await save('--device', '/dev/ttyLS-none')).toBe(0);
    const credentials = join(folder.dataDir, 'credentials');
    await mkdir(credentials, { mode: 0o700 });
    await writeFile(join(credentials, 'line-station-ca-passphrase'), `${PASSPHRASE}\n`);
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    vi.stubEnv('CREDENTIALS_DIRECTORY', credentials);
    const started = await serveUntilLoaded((deps) =>
      start(['--headless', '--data-dir', folder.dataDir], deps),
    );
    expect(started.code).toBe(0);
    expect(started.lines.join('\n')).toContain('Line ready: profile "LS-DEMO-1 line 5"');
  });

  it('a saved line that does not fit stops the start with its code, instead of running the DEMO', async () => {
    await writeFile(savedLinePath(folder.dataDir), '{"version": 1, "baud": "fast"}');
    await expect(start(['--headless', '--data-dir', folder.dataDir])).rejects.toMatchObject({
      code: 'STATION_LINE_INVALID',
      message: expect.stringContaining('baud:'),
    });
    await expect(serve(['--data-dir', folder.dataDir])).rejects.toMatchObject({
      code: 'STATION_LINE_INVALID',
    });
  });

  it('is checked before it is saved: a product the profiles file lacks is refused, nothing saved', async () => {
    await expect(save('--product', 'LS-MISSING', '--device', '/dev/ttyUSB0')).rejects.toMatchObject(
      {
        code: 'PROFILE_NOT_FOUND',
        message: expect.stringContaining('No product profile is named "LS-MISSING"'),
      },
    );
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await save()).toBe(2);
    printed = [];
    await line(['show', '--data-dir', folder.dataDir]);
    expect(printed.join('\n')).toContain('No line is saved');
  });
});
