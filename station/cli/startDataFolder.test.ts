/**
 * A data folder named by LINE_STATION_DATA (a systemd unit's Environment=) with no line saved in
 * it ran the DEMO in silence, while --data-dir to the same folder was refused; the start
 * sentence did not even say DEMO. Real processes of the CLI, the real DEMO line, the desktop
 * window's core factory.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StationStartError } from '../api/stationFactory.js';
import { DEMO_ENV, desktopStationFactory } from '../production/desktopStation.js';
import { savedLinePath } from '../production/savedLine.js';
import { start } from './startCommand.js';
import { useElectronStandIns } from './testing/electronStandIns.js';
import { stationProcess } from './testing/stationProcess.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'start-data-folder-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(dataDir, { recursive: true, force: true });
});

/** Without its line breaks, to match a sentence. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

describe('a folder from LINE_STATION_DATA with no line saved', () => {
  it('is refused as --data-dir is, with its code, the folder and the ways on', async () => {
    const fromEnv = stationProcess(['start', '--headless', '--port', '0'], {
      LINE_STATION_DATA: dataDir,
    });
    const fromFlag = stationProcess(['start', '--headless', '--data-dir', dataDir], {
      LINE_STATION_DATA: undefined,
    });
    expect(await fromEnv.exited).toBe(2);
    expect(await fromFlag.exited).toBe(2);
    expect(oneLine(fromEnv.stderr())).toBe(
      `station start: no line is saved in ${dataDir} (the data folder given by LINE_STATION_DATA=${dataDir}; no ${savedLinePath(dataDir)}): save one there with \`station line save --data-dir ${dataDir}\`, or run the DEMO line explicitly with \`station start --demo\`. [STATION_LINE_NOT_SAVED]`,
    );
    expect(oneLine(fromFlag.stderr())).toMatch(
      /^station start: no line is saved in .*--data-dir .*leave out --data-dir for the DEMO line\. \[STATION_LINE_NOT_SAVED\]$/,
    );
    for (const refused of [fromEnv, fromFlag]) expect(refused.stdout()).not.toMatch(/open http/);
  }, 60_000);

  it('is refused when its line.json cannot be read, never the DEMO', async () => {
    // A folder where line.json is (a directory here: root reads any file) but cannot be read.
    await mkdir(savedLinePath(dataDir));
    const run = stationProcess(['start', '--headless', '--port', '0'], {
      LINE_STATION_DATA: dataDir,
    });
    expect(await run.exited).toBe(1);
    expect(oneLine(run.stderr())).toContain(`The saved line in ${savedLinePath(dataDir)}`);
    expect(run.stderr()).toContain('[STATION_LINE_INVALID]');
    expect(run.stdout()).not.toMatch(/open http/);
  }, 60_000);

  it('runs the DEMO with --demo, and the start sentence says it is the DEMO line', async () => {
    const run = stationProcess(['start', '--headless', '--demo', '--port', '0'], {
      LINE_STATION_DATA: dataDir,
    });
    const [sentence] = await run.waitFor(/^.*open http\S+ in a browser\.$/m, 'stdout');
    expect(sentence).toMatch(
      /^You asked for --headless, so Line Station runs the DEMO line headless: open http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43} in a browser\.$/,
    );
    expect(await run.stop()).toBe(0);
  }, 60_000);

  it('is refused by the desktop window too, which runs the DEMO only when start says so', async () => {
    vi.stubEnv('LINE_STATION_DATA', dataDir);
    vi.stubEnv(DEMO_ENV, '');
    const refused = desktopStationFactory({ log: () => undefined });
    await expect(refused).rejects.toBeInstanceOf(StationStartError);
    // The window's operator may have no terminal, and the packaged app no `station` command.
    await expect(refused).rejects.toMatchObject({
      code: 'STATION_LINE_NOT_SAVED',
      message: `No line is saved in ${dataDir}, the data folder this computer's LINE_STATION_DATA setting names (there is no ${savedLinePath(dataDir)}), so Line Station did not start. Save the line into that folder with this station's setup, or, to open the DEMO line instead, remove the LINE_STATION_DATA setting and open Line Station again.`,
    });
  });

  it('makes --data-dir to a folder with no line advise --demo, not leaving out --data-dir', async () => {
    // Without --data-dir the variable's folder would be refused all the same.
    vi.stubEnv('LINE_STATION_DATA', dataDir);
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const other = join(dataDir, 'other');
    expect(await start(['--headless', '--data-dir', other])).toBe(2);
    expect(errors).toEqual([
      `station start: no line is saved in ${other} (the data folder given by --data-dir ${other}; no ${savedLinePath(other)}): save one there with \`station line save --data-dir ${other}\`, or run the DEMO line explicitly with \`station start --demo\`. [STATION_LINE_NOT_SAVED]`,
    ]);
  });
});

describe('the window `start` opens on a folder with no line saved', () => {
  const standIns = useElectronStandIns('electron-start-folder-');

  it('is told to run the DEMO, since the window refuses a folder with no line', async () => {
    // The default folder (~/.line-station) of a home with nothing saved: the DEMO is right.
    vi.stubEnv('HOME', dataDir);
    vi.stubEnv('LINE_STATION_DATA', '');
    vi.stubEnv('DISPLAY', ':0');
    const binary = await standIns.asNode();
    const launched: Record<string, string>[] = [];
    const code = await start([], {
      locateElectron: async () => ({ available: true, binary, version: 'v45.4.1' }),
      launchElectron: async (_binary, env) => (launched.push(env), 0),
    });
    expect(code).toBe(0);
    expect(launched).toEqual([
      { LINE_STATION_DATA: join(dataDir, '.line-station'), [DEMO_ENV]: '1' },
    ]);
  }, 60_000);
});
