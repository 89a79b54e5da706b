import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunningStation } from '../api/stationFactory.js';
import { StationStartError } from '../api/stationFactory.js';
import { desktopStationFactory } from './desktopStation.js';
import { savedLinePath } from './savedLine.js';
import { loggedToFile, logFolder, StationLogFile } from './stationLogFile.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'station-log-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const logText = (name = 'station.log') => readFileSync(join(logFolder(dataDir), name), 'utf8');

/** A clock the test moves. */
function clock(start = Date.parse('2026-03-01T10:00:00.000Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe('StationLogFile', () => {
  it('appends each line with its time, across restarts, for the station user alone', () => {
    const { now, advance } = clock();
    const first = new StationLogFile(dataDir, { now });
    first.write('slot 1 /dev/ttyUSB0: PASS ls-100-sn1');
    first.write('DPS sync: DPS cannot be reached.\nThe outbox keeps every enrollment.');
    first.close();
    advance(1_000);
    const second = new StationLogFile(dataDir, { now });
    second.write('Line ready');
    second.close();

    expect(logText()).toBe(
      '2026-03-01T10:00:00.000Z slot 1 /dev/ttyUSB0: PASS ls-100-sn1\n' +
        '2026-03-01T10:00:00.000Z DPS sync: DPS cannot be reached.\n' +
        '    The outbox keeps every enrollment.\n' +
        '2026-03-01T10:00:01.000Z Line ready\n',
    );
    expect(statSync(join(logFolder(dataDir), 'station.log')).mode & 0o777).toBe(0o600);
    expect(statSync(logFolder(dataDir)).mode & 0o777).toBe(0o700);
  });

  it('narrows a folder and file that were there before to the station user', () => {
    mkdirSync(logFolder(dataDir), { mode: 0o755 });
    writeFileSync(join(logFolder(dataDir), 'station.log'), 'restored\n', { mode: 0o644 });
    chmodSync(logFolder(dataDir), 0o755);
    const log = new StationLogFile(dataDir, { now: clock().now });
    log.write('after the restore');
    log.close();
    expect(statSync(join(logFolder(dataDir), 'station.log')).mode & 0o777).toBe(0o600);
    expect(statSync(logFolder(dataDir)).mode & 0o777).toBe(0o700);
    expect(logText()).toBe('restored\n2026-03-01T10:00:00.000Z after the restore\n');
  });

  it('starts a new file at maxBytes and keeps only `keep` older ones', () => {
    const log = new StationLogFile(dataDir, { maxBytes: 100, keep: 2, now: clock().now });
    // 24 characters of time, a space, 39 of text and a newline: 65 bytes, so every line after
    // the first starts a new file.
    for (let n = 1; n <= 4; n++) log.write(`line ${n} ${'x'.repeat(32)}`);
    log.close();

    expect(readdirSync(logFolder(dataDir)).sort()).toEqual([
      'station.log',
      'station.log.1',
      'station.log.2',
    ]);
    expect(logText()).toContain('line 4');
    expect(logText('station.log.1')).toContain('line 3');
    expect(logText('station.log.2')).toContain('line 2');
    // Line 1 went with the oldest file.
    const all = ['station.log', 'station.log.1', 'station.log.2'].map((f) => logText(f)).join('');
    expect(all).not.toContain('line 1 ');
  });

  it('says once that it cannot write, never throws, and tries again a minute later', () => {
    const problems: string[] = [];
    const { now, advance } = clock();
    // A file in the logs folder's place: nothing can be created under it, not even by root.
    const blocker = logFolder(dataDir);
    writeFileSync(blocker, '');
    const log = new StationLogFile(dataDir, { now, onProblem: (t) => problems.push(t) });
    log.write('one');
    log.write('two');
    advance(30_000);
    log.write('three');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/cannot be written to \S*logs\S* \((ENOTDIR|EEXIST)\)/);

    rmSync(blocker);
    advance(30_000);
    log.write('four');
    log.close();
    expect(problems[1]).toBe(`The station log is written again: ${log.path}`);
    expect(logText()).toBe('2026-03-01T10:01:00.000Z four\n');
  });
});

describe('loggedToFile', () => {
  it('keeps the start, every line the line logs, and the stop', async () => {
    const shown: string[] = [];
    let stopped = false;
    const factory = loggedToFile(async (context) => {
      context.log('Line ready: profile "Sensor"');
      const running: RunningStation & { extra: number } = {
        line: {} as RunningStation['line'],
        stop: async () => {
          context.log('Stopping the line');
          stopped = true;
        },
        extra: 7,
      };
      return running;
    }, dataDir);
    const running = await factory({ log: (line) => shown.push(line) });
    expect((running as unknown as { extra: number }).extra).toBe(7);
    await running.stop();

    expect(stopped).toBe(true);
    expect(shown).toEqual(['Line ready: profile "Sensor"', 'Stopping the line']);
    const lines = logText()
      .trimEnd()
      .split('\n')
      .map((l) => l.slice(25));
    expect(lines).toEqual([
      `Line Station starts (process ${process.pid}, data folder ${dataDir}).`,
      'Line ready: profile "Sensor"',
      'Stopping the line',
      'Line Station stopped.',
    ]);
  });

  it('keeps why a start was refused, whatever was thrown', async () => {
    const factory = loggedToFile(() => Promise.reject(undefined), dataDir);
    await expect(factory({ log: () => {} })).rejects.toBeUndefined();
    expect(logText()).toMatch(/ Line Station did not start: undefined\n$/);
  });

  it('keeps why the window could not start its saved line', async () => {
    // A saved line whose profiles file is gone: the window has no terminal to say so in.
    writeFileSync(
      savedLinePath(dataDir),
      JSON.stringify({
        version: 1,
        profiles: join(dataDir, 'gone.json'),
        devices: ['/dev/ttyUSB0'],
        discover: false,
        baud: 115_200,
        mode: 'auto',
      }),
    );
    vi.stubEnv('LINE_STATION_DATA', dataDir);
    try {
      await expect(desktopStationFactory({ log: () => {} })).rejects.toThrow();
    } finally {
      vi.unstubAllEnvs();
    }
    expect(logText()).toMatch(
      / Line Station starts .*\n\S+ Line Station did not start: .*gone\.json/,
    );
  });

  it('keeps why a start was refused', async () => {
    const factory = loggedToFile(() => {
      throw new StationStartError('STATION_NOT_CONFIGURED', 'No ports to provision on.');
    }, dataDir);
    await expect(factory({ log: () => {} })).rejects.toMatchObject({
      code: 'STATION_NOT_CONFIGURED',
    });
    expect(logText()).toMatch(
      / Line Station did not start: No ports to provision on\. \(STATION_NOT_CONFIGURED\)\n$/,
    );
  });
});
