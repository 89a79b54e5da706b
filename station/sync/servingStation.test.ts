/**
 * serving.json as `sync status` and `sync set-connection` judge it: real files, real processes
 * of this host (a child that ran and ended, this test's own process under a record of another
 * start).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStartTicks, thisProcess } from '../store/runOwner.js';
import {
  claimServing,
  markServing,
  markUnlocked,
  servingClaimFile,
  servingStation,
  servingStationFile,
} from './servingStation.js';

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

/** A process of this host that runs until the test ends it. */
async function runningProcess(): Promise<{ pid: number; end: () => Promise<unknown> }> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  await new Promise((spawned) => child.once('spawn', spawned));
  return {
    pid: child.pid!,
    end: () => new Promise((ended) => (child.once('exit', ended), child.kill('SIGKILL'))),
  };
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

describe('one line per data folder', () => {
  it("neither writes over a live line's record nor takes it back", async () => {
    const other = await runningProcess();
    try {
      writeRecord({ pid: other.pid, processStart: processStartTicks(other.pid) });
      const unmark = markServing(dataDir, { connectionAtStart: false, locked: false });
      expect(servingStation(dataDir)).toMatchObject({ pid: other.pid });
      unmark();
      expect(servingStation(dataDir)).toMatchObject({ pid: other.pid });
    } finally {
      await other.end();
    }
  });

  it('is claimed once: a live claim or serving line of another process refuses, a stale one does not', async () => {
    const other = await runningProcess();
    try {
      const claim = JSON.stringify({
        host: thisProcess().host,
        pid: other.pid,
        processStart: processStartTicks(other.pid),
        since: '2026-12-06T08:00:00.000Z',
      });
      writeFileSync(servingClaimFile(dataDir), claim);
      expect(claimServing(dataDir)).toEqual({
        holder: {
          host: thisProcess().host,
          pid: other.pid,
          since: '2026-12-06T08:00:00.000Z',
          serving: false,
        },
      });
      rmSync(servingClaimFile(dataDir));
      writeRecord({ pid: other.pid, processStart: processStartTicks(other.pid), locked: true });
      expect(claimServing(dataDir)).toMatchObject({
        holder: { pid: other.pid, serving: true, locked: true },
      });
    } finally {
      await other.end();
    }
    // Its process ended: both are stale, and the folder is claimed by this process.
    const claimed = claimServing(dataDir);
    expect(claimed).toHaveProperty('release');
    expect(JSON.parse(readFileSync(servingClaimFile(dataDir), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
    if ('release' in claimed) claimed.release();
    expect(existsSync(servingClaimFile(dataDir))).toBe(false);
  });

  it('gets no claim, and no refusal, in a folder that is not there', () => {
    const missing = join(dataDir, 'no-such-folder');
    expect(claimServing(missing)).toHaveProperty('release');
    expect(existsSync(missing)).toBe(false);
  });
});
