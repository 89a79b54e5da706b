/**
 * What `sync status` and `sync set-connection` say of the process that sends this data folder's
 * outbox: a sync worker (its lease), the line serving the folder (servingStation.ts), both or
 * neither. A serving line runs a worker only if a DPS connection was stored when it started (or
 * when it was unlocked): one stored later waits for its restart, and saying "not running" of it
 * read as if the line were down.
 */
import type { ServingStation } from '../sync/servingStation.js';
import type { LeaseHolder } from '../sync/syncLease.js';
import { stationCommand } from './stationCommand.js';
import { zonedLocalTime } from './timeFlags.js';

/** What the commands read of the folder, none of it secret. */
export interface SyncWorkerFacts {
  /** The live sync lease's holder, if any. */
  worker: LeaseHolder | undefined;
  serving: (ServingStation & { otherHost: boolean }) | undefined;
  /** Whether a DPS connection is stored now. */
  connected: boolean;
  /** When an enrollment of this outbox was last synced (ISO), if ever. */
  lastSyncedAt?: string | undefined;
}

function servingText(serving: ServingStation & { otherHost: boolean }): string {
  const unchecked = serving.otherHost ? '; on another machine, so not checked from here' : '';
  return `process ${serving.pid} on ${serving.host}, serving since ${zonedLocalTime(serving.since)}${unchecked}`;
}

const isServingWorker = (facts: SyncWorkerFacts): boolean =>
  facts.worker !== undefined &&
  facts.serving !== undefined &&
  facts.worker.pid === facts.serving.pid &&
  facts.worker.host === facts.serving.host;

/** The `Sync worker:` line of `sync status`. */
export function workerLine(facts: SyncWorkerFacts, dataDir: string | undefined): string {
  const { worker, serving, connected, lastSyncedAt } = facts;
  // Any path counts (a bundle's receipt too): it says when the outbox last moved, not who moved it.
  const last = lastSyncedAt
    ? `; an enrollment of this outbox was last marked synced at ${zonedLocalTime(lastSyncedAt)}`
    : '';
  if (worker && serving && isServingWorker(facts)) {
    return `Sync worker: running in the station serving this data folder (${servingText(serving)})${last}`;
  }
  if (worker) return `Sync worker: running (process ${worker.pid} on ${worker.host})${last}`;
  const once = stationCommand('sync now', dataDir);
  if (serving && connected) {
    return `Sync worker: not running in the station serving this data folder (${servingText(serving)}): it ${startedWithout(serving)}, and does not use the connection stored since until it is restarted (Ctrl-C, then start it again)${serving.locked ? ', or unlocked if it still waits locked' : ''}; \`${once}\` sends the outbox once meanwhile`;
  }
  if (!connected) {
    const where = serving
      ? ` in the station serving this data folder (${servingText(serving)})`
      : '';
    return `Sync worker: none${where}, as no DPS connection is stored: enrollments wait in the outbox (${stationCommand('sync set-connection', dataDir)}, or carry them with ${stationCommand('bundle export', dataDir)})`;
  }
  return `Sync worker: not running (a station sends the outbox while it serves; \`${once}\` sends it once)`;
}

/** Why a serving line runs no worker though a connection is stored now. */
function startedWithout(serving: ServingStation): string {
  if (serving.locked) {
    return 'started locked, and runs no sync worker until a supervisor unlocks it with a DPS connection stored';
  }
  const began = serving.unlockedAt === undefined ? 'started' : 'was unlocked';
  return serving.connectionAtStart
    ? `runs no sync worker, though a DPS connection was stored when it ${began}`
    : `${began} before a DPS connection was stored, so it runs no sync worker`;
}

/**
 * What `sync set-connection` adds when a line serves the folder: it keeps the connection it
 * started with (none, or the old one) until it is restarted. Undefined when nothing serves it.
 */
export function storedWhileServingText(
  facts: SyncWorkerFacts,
  dataDir: string | undefined,
): string | undefined {
  const { worker, serving } = facts;
  if (worker && (!serving || isServingWorker(facts))) {
    return `A line syncs from this data folder now (process ${worker.pid} on ${worker.host}): it keeps the connection it started with. Restart it (Ctrl-C, then start it again) to use this one.`;
  }
  if (!serving) return undefined;
  const unlock = serving.locked
    ? ' A line started --locked that no supervisor has unlocked yet reads it when unlocked.'
    : '';
  return `A station serves this data folder now (${servingText(serving)}) and runs no sync worker: it ${startedWithout(serving)}. It does not use this connection until it is restarted (Ctrl-C, then start it again); until then nothing syncs from it, and \`${stationCommand('sync now', dataDir)}\` sends the outbox once.${unlock}`;
}
