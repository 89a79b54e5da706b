import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { hostProcessRuns } from '../store/runOwner.js';

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
}

/** A lease of another host that was not renewed for this long is free. */
const STALE_MS = 60_000;

/**
 * The sync lease (migration 006): one worker per database drains the outbox. A worker takes it
 * before it touches a row, renews it while it runs and gives it back when it stops. The lease
 * is free when its holder is
 * - this process: a worker of it that never stopped, which the process answers for itself;
 * - a process of this host that no longer runs: it crashed or was killed, so its rows are
 *   read back from DPS like any crash's;
 * - a process of another host (a database on a shared drive) that has not renewed it within
 *   STALE_MS.
 */
export class SyncLease {
  private readonly holder = randomUUID();
  private readonly host = hostname();
  private renewedAt = 0;
  private held = false;
  private readonly sql;
  private readonly takeTx: Database.Transaction<() => LeaseHolder | undefined>;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
  ) {
    this.sql = {
      read: db.prepare(`SELECT holder, host, pid, renewed_at AS renewedAt FROM sync_lease`),
      take: db.prepare(`INSERT OR REPLACE INTO sync_lease (id, holder, host, pid, renewed_at)
        VALUES (1, ?, ?, ?, ?)`),
      renew: db.prepare(`UPDATE sync_lease SET renewed_at = ? WHERE holder = ?`),
      release: db.prepare(`DELETE FROM sync_lease WHERE holder = ?`),
    };
    this.takeTx = db.transaction(() => this.takeInTransaction());
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
      this.sql.release.run(this.holder);
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
  const lease = db
    .prepare(`SELECT holder, host, pid, renewed_at AS renewedAt FROM sync_lease`)
    .get() as StoredLease | undefined;
  if (!lease || isStale(lease, now)) return undefined;
  return { host: lease.host, pid: lease.pid };
}

/** A lease whose holder is gone: a process of this host that no longer runs, or a silent host. */
function isStale(lease: StoredLease, now: number): boolean {
  if (lease.host !== hostname()) return now - lease.renewedAt > STALE_MS;
  return !hostProcessRuns(lease.pid);
}
