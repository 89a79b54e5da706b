/**
 * serving.json as `sync status` and `sync set-connection` judge it: real files, real processes
 * of this host (a child that ran and ended, this test's own process under a record of another
 * start).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { processStartTicks, thisProcess } from '../store/runOwner.js';
import {
  claimServing,
  markServing,
  markUnlocked,
  servingClaimFile,
  servingStation,
  servingStationFile,
} from './servingStation.js';

/**
 * What another start does at a given moment of this one's claim (a link or rename about to be
 * made), or a filesystem without hard links: the real calls otherwise.
 */
const fsHooks = vi.hoisted(() => ({
  link: undefined as ((existing: string, target: string) => void) | undefined,
  rename: undefined as ((from: string, to: string) => void) | undefined,
  exclusive: undefined as ((file: string) => void) | undefined,
}));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    linkSync: (existing: string, target: string) => {
      fsHooks.link?.(existing, target);
      fs.linkSync(existing, target);
    },
    renameSync: (from: string, to: string) => {
      fsHooks.rename?.(from, to);
      fs.renameSync(from, to);
    },
    writeFileSync: (...args: Parameters<typeof fs.writeFileSync>) => {
      const options = args[2];
      if (typeof options === 'object' && options?.flag === 'wx')
        fsHooks.exclusive?.(String(args[0]));
      fs.writeFileSync(...args);
    },
  };
});

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'serving-station-'));
});
afterEach(() => {
  Object.assign(fsHooks, { link: undefined, rename: undefined, exclusive: undefined });
  rmSync(dataDir, { recursive: true, force: true });
});

/** An error as the filesystem gives it. */
function fsError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: refused`), { code });
}

/** A claim (serving.lock) as a start of this host would write it, with `change` applied. */
function claimText(change: Record<string, unknown>): string {
  return JSON.stringify({ host: thisProcess().host, since: '2026-12-06T08:00:00.000Z', ...change });
}

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

  it('is not refused by a claim of another host, which a killed station left on its folder', () => {
    // A container re-created on the same volume, a renamed PC: no process of that name runs.
    writeFileSync(
      servingClaimFile(dataDir),
      claimText({ host: 'line-7-old-container', pid: 1, processStart: '1' }),
    );
    const claimed = claimServing(dataDir);
    expect(claimed).toHaveProperty('release');
    expect(JSON.parse(readFileSync(servingClaimFile(dataDir), 'utf8'))).toMatchObject({
      host: thisProcess().host,
      pid: process.pid,
    });
    if ('release' in claimed) claimed.release();
  });

  it('refuses, and keeps the live claim it moved aside, when a third start claimed the folder meanwhile', async () => {
    const [a, c] = [await runningProcess(), await runningProcess()];
    try {
      const file = servingClaimFile(dataDir);
      const aside = `${file}.${process.pid}.stale`;
      const aClaim = claimText({ pid: a.pid, processStart: processStartTicks(a.pid) });
      const cClaim = claimText({ pid: c.pid, processStart: processStartTicks(c.pid) });
      writeFileSync(file, claimText({ pid: await endedPid() }));
      // A takes the stale claim over just before this start moves it aside...
      fsHooks.rename = (from) => {
        if (from === file) writeFileSync(file, aClaim);
      };
      // ...and C claims the emptied folder before A's claim is linked back.
      fsHooks.link = (existing) => {
        if (existing === aside) writeFileSync(file, cClaim);
      };
      expect(claimServing(dataDir)).toMatchObject({ holder: { pid: a.pid, serving: false } });
      expect(readFileSync(aside, 'utf8')).toBe(aClaim);
      expect(readFileSync(file, 'utf8')).toBe(cClaim);
    } finally {
      await Promise.all([a.end(), c.end()]);
    }
  });

  it('is claimed by an exclusive create on a filesystem without hard links', async () => {
    fsHooks.link = () => {
      throw fsError('EPERM'); // exFAT, FAT, some CIFS and FUSE mounts
    };
    const claimed = claimServing(dataDir);
    expect(claimed).toEqual({ release: expect.any(Function) });
    expect(JSON.parse(readFileSync(servingClaimFile(dataDir), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
    if ('release' in claimed) claimed.release();
    expect(existsSync(servingClaimFile(dataDir))).toBe(false);

    const other = await runningProcess();
    try {
      writeFileSync(
        servingClaimFile(dataDir),
        claimText({ pid: other.pid, processStart: processStartTicks(other.pid) }),
      );
      expect(claimServing(dataDir)).toMatchObject({ holder: { pid: other.pid } });
    } finally {
      await other.end();
    }
  });

  it('puts back a live claim it moved aside on a filesystem without hard links', async () => {
    const a = await runningProcess();
    try {
      const file = servingClaimFile(dataDir);
      const aClaim = claimText({ pid: a.pid, processStart: processStartTicks(a.pid) });
      writeFileSync(file, claimText({ pid: await endedPid() }));
      fsHooks.link = () => {
        throw fsError('EPERM');
      };
      fsHooks.rename = (from) => {
        if (from === file) writeFileSync(file, aClaim); // A took the stale claim over first
      };
      expect(claimServing(dataDir)).toMatchObject({ holder: { pid: a.pid } });
      expect(readFileSync(file, 'utf8')).toBe(aClaim);
      expect(existsSync(`${file}.${process.pid}.stale`)).toBe(false);
    } finally {
      await a.end();
    }
  });

  it('says in one line that a folder where the claim cannot be created is not claimed', () => {
    fsHooks.link = () => {
      throw fsError('ENOTSUP');
    };
    fsHooks.exclusive = () => {
      throw fsError('EPERM');
    };
    expect(claimServing(dataDir)).toEqual({
      release: expect.any(Function),
      unclaimed: expect.stringMatching(
        new RegExp(
          `^Line Station: the data folder ${dataDir} cannot be claimed .*start only one\\.$`,
        ),
      ),
    });
  });

  it('says so when it leaves a live line its record', async () => {
    const other = await runningProcess();
    try {
      writeRecord({ pid: other.pid, processStart: processStartTicks(other.pid) });
      const logged: string[] = [];
      const unmark = markServing(
        dataDir,
        { connectionAtStart: false, locked: true },
        new Date(),
        (line) => void logged.push(line),
      );
      unmark();
      expect(logged).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Line Station: process ${other.pid} already serves the data folder ${dataDir} `,
          ),
        ),
      ]);
      expect(servingStation(dataDir)).toMatchObject({ pid: other.pid });
    } finally {
      await other.end();
    }
  });
});
