/**
 * Which process serves a real line on a data folder. The sync lease (syncLease.ts) shows only a
 * running sync worker, and a line that started with no DPS connection, or locked, runs none:
 * `sync set-connection` and `sync status` then took the folder for idle although a line served
 * it, and never said that the line would not use a connection stored meanwhile. So a serving
 * line records itself in `<data folder>/serving.json` (no secret: host, process, start time)
 * while it runs, and the commands read it.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostProcessRuns, processStartTicks, thisProcess } from '../store/runOwner.js';

/** A serving line, as it recorded itself. */
export interface ServingStation {
  host: string;
  pid: number;
  /** The kernel's boot id when it started (Linux): a record of an earlier boot is stale. */
  boot?: string;
  /**
   * When its process started (Linux, processStartTicks): another process that took over the
   * pid after a SIGKILL or a crash has another start, so the record is stale.
   */
  processStart?: string;
  /** When it started serving (ISO 8601). */
  since: string;
  /** Whether a DPS connection was stored when it started (it reads it then, or at unlock). */
  connectionAtStart: boolean;
  /** Started locked: it reads the connection when a supervisor unlocks it. */
  locked: boolean;
  /**
   * When a line that started locked was unlocked (ISO 8601); `connectionAtStart` then says
   * whether a connection was stored at that moment, as the line read it then.
   */
  unlockedAt?: string;
}

export function servingStationFile(dataDir: string): string {
  return join(dataDir, 'serving.json');
}

/**
 * Records that this process serves a line on `dataDir`; the returned function takes the record
 * back (only while it is still this process's). Never throws: a folder that refuses the file
 * only makes the commands say less, and must not stop a line.
 */
export function markServing(
  dataDir: string,
  start: Pick<ServingStation, 'connectionAtStart' | 'locked'>,
  now: Date = new Date(),
): () => void {
  const { host, pid, boot } = thisProcess();
  const processStart = processStartTicks(pid);
  const record: ServingStation = {
    host,
    pid,
    ...(boot !== undefined && { boot }),
    ...(processStart !== undefined && { processStart }),
    since: now.toISOString(),
    ...start,
  };
  const file = servingStationFile(dataDir);
  if (!writeRecord(file, record)) return () => undefined;
  return () => {
    try {
      const current = readRecord(file);
      if (current?.host === host && current.pid === pid) rmSync(file, { force: true });
    } catch {
      // Left behind, it names a process that has ended: readers take it for stale.
    }
  };
}

/**
 * Records that the locked line this process serves on `dataDir` was unlocked, and whether a DPS
 * connection was stored when it was (it reads the connection then): `sync status` would
 * otherwise go on saying that it waits locked. Only this process's record is changed; never
 * throws, as markServing.
 */
export function markUnlocked(dataDir: string, connectionAtUnlock: boolean, now = new Date()): void {
  const file = servingStationFile(dataDir);
  const { host, pid } = thisProcess();
  try {
    const current = readRecord(file);
    if (current?.host !== host || current.pid !== pid) return;
    writeRecord(file, {
      ...current,
      locked: false,
      connectionAtStart: connectionAtUnlock,
      unlockedAt: now.toISOString(),
    });
  } catch {
    // An unreadable record says nothing of a line already (servingStation).
  }
}

/** Writes the record, renamed into place so a reader never sees half of it; false if refused. */
function writeRecord(file: string, record: ServingStation): boolean {
  try {
    const temp = `${file}.${record.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(temp, file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The line serving `dataDir`, if one recorded itself and still runs. A record of this host whose
 * process ended (or of an earlier boot) is stale; one of another host (a shared drive) cannot be
 * checked from here and is taken as running, with `otherHost`.
 */
export function servingStation(
  dataDir: string,
): (ServingStation & { otherHost: boolean }) | undefined {
  let record: ServingStation | undefined;
  try {
    record = readRecord(servingStationFile(dataDir));
  } catch {
    return undefined; // unreadable: it says nothing of a line
  }
  if (record === undefined) return undefined;
  const self = thisProcess();
  if (record.host !== self.host) return { ...record, otherHost: true };
  const earlierBoot =
    record.boot !== undefined && self.boot !== undefined && record.boot !== self.boot;
  if (earlierBoot || !hostProcessRuns(record.pid)) return undefined;
  if (record.processStart !== undefined) {
    const start = processStartTicks(record.pid);
    if (start !== undefined && start !== record.processStart) return undefined; // pid reused
  }
  return { ...record, otherHost: false };
}

function readRecord(file: string): ServingStation | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const value = JSON.parse(text) as Partial<ServingStation> | null;
  if (
    typeof value?.host !== 'string' ||
    !Number.isSafeInteger(value.pid) ||
    typeof value.since !== 'string'
  ) {
    return undefined;
  }
  return {
    host: value.host,
    pid: value.pid!,
    ...(typeof value.boot === 'string' && { boot: value.boot }),
    ...(typeof value.processStart === 'string' && { processStart: value.processStart }),
    since: value.since,
    connectionAtStart: value.connectionAtStart === true,
    locked: value.locked === true,
    ...(typeof value.unlockedAt === 'string' && { unlockedAt: value.unlockedAt }),
  };
}
