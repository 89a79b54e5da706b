/**
 * Which process serves a real line on a data folder. The sync lease (syncLease.ts) shows only a
 * running sync worker, and a line that started with no DPS connection, or locked, runs none:
 * `sync set-connection` and `sync status` then took the folder for idle although a line served
 * it, and never said that the line would not use a connection stored meanwhile. So a serving
 * line records itself in `<data folder>/serving.json` (no secret: host, process, start time)
 * while it runs, and the commands read it.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  log: (line: string) => void = (line) => console.error(line),
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
  // Another live line's record stays: written over, `sync status` would name the wrong process,
  // and this one's end would take back a record of a line that still runs.
  const other = servingStation(dataDir);
  if (other !== undefined && !other.otherHost && other.pid !== pid) {
    // Said, not only skipped: the desktop window takes no claim of its folder (a `station
    // start` that opened it holds that claim), so a second line there shows only here.
    log(
      `Line Station: process ${other.pid} already serves the data folder ${dataDir} (since ${other.since}); ${file} stays that line's, so the sync commands do not name this one.`,
    );
    return () => undefined;
  }
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
  const live = liveness(record);
  return live === 'stale' ? undefined : { ...record, otherHost: live === 'other-host' };
}

/**
 * Whether the process a record names still runs: `stale` when it ended, ran in an earlier boot,
 * or its pid went to another process (a start time other than the record's); a record of
 * another host cannot be checked from here.
 */
function liveness(
  record: Pick<ServingStation, 'host' | 'pid' | 'boot' | 'processStart'>,
): 'runs' | 'stale' | 'other-host' {
  const self = thisProcess();
  if (record.host !== self.host) return 'other-host';
  const earlierBoot =
    record.boot !== undefined && self.boot !== undefined && record.boot !== self.boot;
  if (earlierBoot || !hostProcessRuns(record.pid)) return 'stale';
  if (record.processStart !== undefined) {
    const start = processStartTicks(record.pid);
    if (start !== undefined && start !== record.processStart) return 'stale'; // pid reused
  }
  return 'runs';
}

/** The claim of a start on a data folder (claimServing), in `<data folder>/serving.lock`. */
export function servingClaimFile(dataDir: string): string {
  return join(dataDir, 'serving.lock');
}

/** What stops a start: the line serving the folder, or another start that claimed it first. */
export type ServingHolder = Pick<ServingStation, 'host' | 'pid' | 'since'> & {
  /** Its line runs (serving.json), rather than only starting (serving.lock). */
  serving: boolean;
  locked?: boolean;
};

/**
 * Claims `dataDir` for a line this process is about to start, before it asks for the CA
 * passphrase or opens any port. Refused (`holder`) when a live line of this host serves it
 * (serving.json), or another live process claimed it first: the claim is serving.lock, created
 * with O_EXCL, so of two starts at once only one gets it. A claim or record whose process ended
 * is stale and taken over. `release` takes back this process's claim only (also at its exit).
 * A folder where no file can be created (missing, read-only) gets no claim and is not refused:
 * the start itself then says what is wrong with the folder. One where the claim alone cannot be
 * created gets none either, with `unclaimed` saying so in one line. A claim of another host
 * does not refuse (liveClaim).
 */
export function claimServing(
  dataDir: string,
  now: Date = new Date(),
): { release: () => void; unclaimed?: string } | { holder: ServingHolder } {
  const serving = servingStation(dataDir);
  if (serving !== undefined && !serving.otherHost && serving.pid !== process.pid) {
    const { host, pid, since, locked } = serving;
    return { holder: { host, pid, since, locked, serving: true } };
  }
  const { host, pid, boot } = thisProcess();
  const processStart = processStartTicks(pid);
  const claim = {
    host,
    pid,
    ...(boot !== undefined && { boot }),
    ...(processStart !== undefined && { processStart }),
    since: now.toISOString(),
  };
  const file = servingClaimFile(dataDir);
  const content = `${JSON.stringify(claim)}\n`;
  // Written whole beside it, then linked into place: link fails when the claim exists, and a
  // reader never meets half of one (an empty claim would read as stale).
  const temp = `${file}.${pid}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o600 });
  } catch {
    return { release: () => undefined };
  }
  try {
    // Twice at most: a stale claim is moved aside once, then the folder is claimed again.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const made = createClaim(temp, file, content);
      if (made === 'unclaimed') {
        return { release: () => undefined, unclaimed: unclaimedText(dataDir, file) };
      }
      if (made === 'exists') {
        const holder = liveClaim(readClaim(file), pid);
        if (holder !== undefined) return { holder };
        const taken = takeOverStale(file, pid);
        if (taken !== undefined) return { holder: taken };
        continue;
      }
      const release = (): void => {
        process.off('exit', release);
        try {
          if (readClaim(file)?.pid === pid) rmSync(file, { force: true });
        } catch {
          // Left behind, it names a process that has ended: the next start takes it for stale.
        }
      };
      process.on('exit', release);
      return { release };
    }
    return { release: () => undefined };
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Creates the claim, failing when one exists: linked into place, or, on a filesystem without
 * hard links (exFAT, FAT, some CIFS and FUSE mounts), created exclusively ('wx'), which a reader
 * may meet half written (read as stale) but which still keeps a second start out. `unclaimed`:
 * neither works, and the folder cannot be claimed at all.
 */
function createClaim(temp: string, file: string, content: string): 'made' | 'exists' | 'unclaimed' {
  try {
    linkSync(temp, file);
    return 'made';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
  }
  try {
    writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
    return 'made';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists' : 'unclaimed';
  }
}

function unclaimedText(dataDir: string, file: string): string {
  return `Line Station: the data folder ${dataDir} cannot be claimed (${file} cannot be created there), so nothing stops a second station from serving it too: start only one.`;
}

/**
 * Moves a stale claim aside under a name of this process, so one start takes it over; then the
 * folder is claimed again. Returns the holder when what was moved is a live claim another start
 * made meanwhile: it is linked back, and when that fails (a third start claimed the folder in
 * the gap) it stays aside rather than being deleted, and this start is refused all the same.
 */
function takeOverStale(file: string, pid: number): ServingHolder | undefined {
  const aside = `${file}.${pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return undefined; // Another start moved it first: claiming again decides.
  }
  const moved = liveClaim(readClaim(aside), pid);
  if (moved === undefined) {
    rmSync(aside, { force: true }); // confirmed stale
    return undefined;
  }
  // Put back as a claim is made (a copy where there are no hard links); otherwise kept aside:
  // it is a live process's claim, not this start's to delete.
  let back: ReturnType<typeof createClaim> = 'unclaimed';
  try {
    back = createClaim(aside, file, readFileSync(aside, 'utf8'));
  } catch {
    // Unreadable now: kept aside.
  }
  if (back === 'made') rmSync(aside, { force: true });
  return moved;
}

/**
 * The holder a claim names, if it is another process that still runs. A claim of another host
 * does not hold: a station's data folder is one workstation's (as serving.json of another host
 * is not a line serving it), and such a claim is one a station left behind when it was killed
 * and the host was renamed or re-created (a Docker container on the same volume, DHCP host
 * names), which no process here could ever take back.
 */
function liveClaim(claim: ReturnType<typeof readClaim>, pid: number): ServingHolder | undefined {
  if (claim === undefined || claim.pid === pid || liveness(claim) !== 'runs') return undefined;
  return { host: claim.host, pid: claim.pid, since: claim.since, serving: false };
}

/** A claim (serving.lock), or undefined when there is none or it cannot be read. */
function readClaim(file: string): HolderFields | undefined {
  try {
    return holderFields(JSON.parse(readFileSync(file, 'utf8')) as Partial<ServingStation> | null);
  } catch {
    return undefined;
  }
}

type HolderFields = Pick<ServingStation, 'host' | 'pid' | 'boot' | 'processStart' | 'since'>;

/** Who a claim or a record names, or undefined when it names no one a check can rely on. */
function holderFields(value: Partial<ServingStation> | null): HolderFields | undefined {
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
  };
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
  const holder = holderFields(value);
  if (holder === undefined || value === null) return undefined;
  return {
    ...holder,
    connectionAtStart: value.connectionAtStart === true,
    locked: value.locked === true,
    ...(typeof value.unlockedAt === 'string' && { unlockedAt: value.unlockedAt }),
  };
}
