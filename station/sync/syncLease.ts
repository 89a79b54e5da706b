import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { hostProcessRuns, processStartTicks, thisProcess } from '../store/runOwner.js';

/** Who holds the sync lease, as the operator is told. */
export interface LeaseHolder {
  host: string;
  pid: number;
}

/** The lease row. */
interface StoredLease extends LeaseHolder {
  holder: string;
  /** When the holder last renewed it, ms since the epoch. */
  renewedAt: number;
  /**
   * The holder's kernel boot id and start in clock ticks since boot (migration 021); null for a
   * lease written by an older station, or where they could not be read (no /proc).
   */
  boot: string | null;
  started: string | null;
}

/** The lease with who holds it beyond the pid (migration 021), as every judge reads it. */
const READ_LEASE = `SELECT l.holder, l.host, l.pid, l.renewed_at AS renewedAt, p.boot, p.started
  FROM sync_lease l LEFT JOIN sync_lease_process p ON p.holder = l.holder`;

/** A lease of another host that was not renewed for this long is free. */
const STALE_MS = 60_000;

/**
 * The sync lease (migration 006): one worker per database drains the outbox. A worker takes it
 * before it touches a row, renews it while it runs and gives it back when it stops. The lease
 * is free when its holder is
 * - this process: a worker of it that never stopped, which the process answers for itself;
 * - a process of this host that no longer runs: it crashed or was killed, so its rows are
 *   read back from DPS like any crash's. After a crash and a reboot the holder's pid is often
 *   taken by an unrelated process, which a pid alone reads as the holder: the lease keeps the
 *   holder's boot id and process start too (migration 021), and a holder of another boot, or
 *   whose pid now belongs to a process that started at another time, no longer runs;
 * - a process of another host (a database on a shared drive) that has not renewed it within
 *   STALE_MS.
 */
export class SyncLease {
  private readonly holder = randomUUID();
  private readonly host = hostname();
  /** Written with the lease, for others to tell this process from a later one with its pid. */
  private readonly boot = thisProcess().boot ?? null;
  private readonly started = processStartTicks(process.pid) ?? null;
  private renewedAt = 0;
  private held = false;
  private readonly sql;
  private readonly takeTx: Database.Transaction<() => LeaseHolder | undefined>;
  private readonly releaseTx: Database.Transaction<() => void>;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
  ) {
    this.sql = {
      read: db.prepare(READ_LEASE),
      take: db.prepare(`INSERT OR REPLACE INTO sync_lease (id, holder, host, pid, renewed_at)
        VALUES (1, ?, ?, ?, ?)`),
      // One lease, so one holder's process at most: an earlier holder's row goes with its lease.
      forgetProcesses: db.prepare(`DELETE FROM sync_lease_process`),
      takeProcess: db.prepare(`INSERT INTO sync_lease_process (holder, boot, started)
        VALUES (?, ?, ?)`),
      renew: db.prepare(`UPDATE sync_lease SET renewed_at = ? WHERE holder = ?`),
      release: db.prepare(`DELETE FROM sync_lease WHERE holder = ?`),
      releaseProcess: db.prepare(`DELETE FROM sync_lease_process WHERE holder = ?`),
    };
    this.takeTx = db.transaction(() => this.takeInTransaction());
    this.releaseTx = db.transaction(() => {
      this.sql.release.run(this.holder);
      this.sql.releaseProcess.run(this.holder);
    });
  }

  /**
   * Takes the lease, or keeps it fresh for other hosts when already held (a write at most every
   * quarter of STALE_MS). Returns who keeps it from this worker, or whether it was just taken.
   */
  hold(): { holder: LeaseHolder } | { justTaken: boolean } {
    if (this.held) {
      if (this.renew()) return { justTaken: false };
      // Another host took it while this worker did not renew (a long hold on a shared drive):
      // it drains now, and has put this worker's rows in flight back to pending.
      this.held = false;
    }
    const holder = this.takeTx.immediate();
    if (holder !== undefined) return { holder };
    this.held = true;
    return { justTaken: true };
  }

  /** Gives the lease back, if held. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      this.releaseTx();
    } catch {
      // The database refused: the lease names this process, which other processes on this host
      // see end, and other hosts see go stale.
    }
  }

  /** Renews the lease when due; false when it is no longer this worker's. */
  private renew(): boolean {
    const now = this.now();
    if (now - this.renewedAt < STALE_MS / 4) return true;
    if (this.sql.renew.run(now, this.holder).changes === 0) return false;
    this.renewedAt = now;
    return true;
  }

  private takeInTransaction(): LeaseHolder | undefined {
    const current = this.sql.read.get() as StoredLease | undefined;
    if (current && current.holder !== this.holder && !this.isFree(current)) {
      return { host: current.host, pid: current.pid };
    }
    const now = this.now();
    this.sql.take.run(this.holder, this.host, process.pid, now);
    this.sql.forgetProcesses.run();
    this.sql.takeProcess.run(this.holder, this.boot, this.started);
    this.renewedAt = now;
    return undefined;
  }

  private isFree(lease: StoredLease): boolean {
    // This process answers for its own workers; any other holder is judged as everyone judges it.
    if (lease.host === this.host && lease.pid === process.pid) return true;
    return isStale(lease, this.now());
  }
}

/**
 * Who drains this database's outbox right now, as another process sees it (`station sync
 * status`); undefined when no worker holds a live lease.
 */
export function activeSyncHolder(db: Database.Database, now = Date.now()): LeaseHolder | undefined {
  const lease = db.prepare(READ_LEASE).get() as StoredLease | undefined;
  if (!lease || isStale(lease, now)) return undefined;
  return { host: lease.host, pid: lease.pid };
}

/** A lease whose holder is gone: a process of this host that no longer runs, or a silent host. */
function isStale(lease: StoredLease, now: number): boolean {
  if (lease.host !== hostname()) return now - lease.renewedAt > STALE_MS;
  if (!hostProcessRuns(lease.pid)) return true;
  // A process runs with the holder's pid, but it may be another one: after a reboot (a crash,
  // a power cut) pids are handed out again, so every process of an earlier boot is gone.
  const boot = thisProcess().boot;
  if (lease.boot !== null && boot !== undefined && lease.boot !== boot) return true;
  // Within this boot, a pid taken over after its holder ended (killed) has another start. A
  // lease written by an older station, or where /proc cannot be read, has the pid alone to
  // tell, and errs on the side of a holder that still runs.
  if (lease.started === null) return false;
  const started = processStartTicks(lease.pid);
  return started !== undefined && started !== lease.started;
}
