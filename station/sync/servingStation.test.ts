/**
 * serving.json as `sync status` and `sync set-connection` judge it: real files, real processes
 * of this host (a child that ran and ended, this test's own process under a record of another
 * start).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStartTicks, thisProcess } from '../store/runOwner.js';
import { markServing, markUnlocked, servingStation, servingStationFile } from './servingStation.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'serving-station-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A serving.json as a line of this host would write it, with `change` applied. */
function writeRecord(change: Record<string, unknown>): void {
  const { host, pid, boot } = thisProcess();
  const record = {
    host,
    pid,
    ...(boot !== undefined && { boot }),
    since: '2026-12-06T08:00:00.000Z',
    connectionAtStart: true,
    locked: false,
    ...change,
  };
  writeFileSync(servingStationFile(dataDir), JSON.stringify(record));
}

/** The pid of a process that ran and has ended. */
async function endedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((ended) => child.once('exit', ended));
  return child.pid!;
}

describe('the serving station record', () => {
  it('names this process while it serves, and nothing once taken back', () => {
    const unmark = markServing(dataDir, { connectionAtStart: false, locked: true });
    expect(servingStation(dataDir)).toMatchObject({
      pid: process.pid,
      locked: true,
      connectionAtStart: false,
      processStart: processStartTicks(process.pid),
      otherHost: false,
    });
    unmark();
    expect(servingStation(dataDir)).toBeUndefined();
  });

  it('is stale when its process ended, or when another process took over its pid', async () => {
    writeRecord({ pid: await endedPid() });
    expect(servingStation(dataDir)).toBeUndefined();
    // After a SIGKILL the pid may go to another process: it runs, but it started at another
    // time than the record says, so no line serves the folder.
    const start = processStartTicks(process.pid);
    expect(start).toMatch(/^\d+$/);
    writeRecord({ processStart: String(Number(start) + 1) });
    expect(servingStation(dataDir)).toBeUndefined();
    writeRecord({ processStart: start });
    expect(servingStation(dataDir)).toMatchObject({ pid: process.pid, otherHost: false });
  });

  it('is taken as running when it names another host, which cannot be checked from here', () => {
    writeRecord({ host: 'line-7-workstation', pid: 1, processStart: '1' });
    expect(servingStation(dataDir)).toMatchObject({ host: 'line-7-workstation', otherHost: true });
  });

  it('records an unlock of this process only, with the connection stored then', () => {
    writeRecord({ host: 'line-7-workstation', locked: true, connectionAtStart: false });
    markUnlocked(dataDir, true);
    expect(servingStation(dataDir)).toMatchObject({ locked: true, connectionAtStart: false });

    const unmark = markServing(dataDir, { connectionAtStart: false, locked: true });
    markUnlocked(dataDir, true, new Date('2026-12-06T09:30:00.000Z'));
    expect(servingStation(dataDir)).toMatchObject({
      locked: false,
      connectionAtStart: true,
      unlockedAt: '2026-12-06T09:30:00.000Z',
    });
    unmark();
  });
});
