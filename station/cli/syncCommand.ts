import { existsSync } from 'node:fs';
import { parseStationArgs } from './stationArgs.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealedText } from '../../certs/custody/secretBox.js';
import {
  parseConnectionString,
  type DpsConnectionString,
} from '../../dps/auth/connectionString.js';
import { tlsRefusalNamedIn } from '../../dps/http/tlsRefusalCodes.js';
import type { DpsServiceApi } from '../../dps/service/serviceTypes.js';
import { bundleCount, carriedAwaitingReceipt } from '../bundle/bundleList.js';
import {
  readOutboxAttention,
  type LatestSyncProblem,
  type OutboxAttention,
} from '../store/outboxAttention.js';
import type { AuditActor } from '../store/auditLog.js';
import { auditedChange } from '../store/auditedChange.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import {
  dpsConnectionFile,
  hasDpsConnection,
  loadDpsConnectionString,
  saveDpsConnectionString,
} from '../sync/dpsCredentials.js';
import {
  isStationOwnWait,
  readRetryWaits,
  type RetryWaits,
  type WaitingRows,
} from '../sync/retryWaits.js';
import { groupKeyFingerprints } from '../sync/groupKeyFingerprint.js';
import { servingStation } from '../sync/servingStation.js';
import { activeSyncHolder } from '../sync/syncLease.js';
import { syncErrorText } from '../sync/syncErrors.js';
import { SyncWorker } from '../sync/syncWorker.js';
import { untrustedDpsText } from '../sync/tlsRefusal.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { recordingPassphraseRefusal } from './passphraseRefusal.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { readPassphrase } from './passphrase.js';
import { supervisorActor } from './supervisorName.js';
import { UsageError } from './usageError.js';
import { stationCommand } from './stationCommand.js';
import { storedWhileServingText, workerLine, type SyncWorkerFacts } from './syncWorkerText.js';
import { loadGroupKeySource } from '../production/groupKeys.js';
import { zonedLocalTime } from './timeFlags.js';

export const SYNC_USAGE = `  sync status                                    outbox counts, the DPS connection, whether a sync
                                                 worker runs, what waited longest and the latest
                                                 sync problem
  sync now                                       send every due enrollment to DPS, then exit;
                                                 one waiting out the station's own retry delay
                                                 (untrusted certificate, credentials, clock) is
                                                 sent at once, one DPS asked to wait is not
  sync set-connection [--by NAME]                store the DPS service connection string, sealed
                                                 under the CA passphrase (the string comes from
                                                 LINE_STATION_DPS_CONNECTION, the terminal, or stdin);
                                                 the audit trail records who (--by, else this OS
                                                 user), the DPS host and the policy name, never
                                                 the key
          every sync command takes --data-dir DIR; a DPS that is not Azure's (station emulator)
          is trusted only with LINE_STATION_DPS_CA=its CA file, for serve and sync now alike`;

/** Makes the DPS service client from the unsealed connection string; `close` ends its sockets. */
export type DpsClientFactory = (
  connection: DpsConnectionString,
) => DpsServiceApi & { close?(): void };

/**
 * `station sync …`. The DPS client is passed in, so this file depends only on the DpsServiceApi
 * interface: `syncCommand((cs) => new DpsServiceClient({ connectionString: cs }))` in cli.ts.
 */
export function syncCommand(openDps: DpsClientFactory): (args: string[]) => Promise<number> {
  return async (args) => {
    const [sub, ...rest] = args;
    const { values } = parseStationArgs({
      args: rest,
      options: { 'data-dir': { type: 'string' }, by: { type: 'string' } },
    });
    // Only set-connection changes something a supervisor answers for: elsewhere --by is refused,
    // not ignored.
    if (values.by !== undefined && sub !== 'set-connection') {
      throw new UsageError(`station sync ${sub ?? ''}: --by is not one of its options`);
    }
    const dataDir = resolveDataDir(values['data-dir']);
    switch (sub) {
      case 'status':
        return status(dataDir);
      case 'now':
        return syncNow(dataDir, openDps);
      case 'set-connection':
        return setConnection(dataDir, supervisorActor(values.by));
      default:
        console.error(`station sync: unknown subcommand "${sub ?? ''}"\n${SYNC_USAGE}`);
        return 2;
    }
  };
}

function status(dataDir: string): number {
  const db = openExistingStationDatabase(dataDir, { toRead: true });
  let attention: OutboxAttention;
  let worker: SyncWorkerFacts['worker'];
  let lastSyncedAt: string | undefined;
  let bundles: number;
  let carried: number;
  try {
    for (const [name, n] of Object.entries(new ProvisioningStore(db).outboxCounts())) {
      console.log(`${name.padEnd(9)} ${String(n).padStart(8)}`);
    }
    attention = readOutboxAttention(db);
    worker = activeSyncHolder(db);
    lastSyncedAt = lastSynced(db);
    bundles = bundleCount(db);
    carried = carriedAwaitingReceipt(db);
  } finally {
    db.close();
  }
  const connected = hasDpsConnection(dataDir);
  const station = (command: string): string => stationCommand(command, dataDir);
  console.log(
    connected
      ? `DPS connection: set (sealed in ${dpsConnectionFile(dataDir)})`
      : `DPS connection: not set (${station('sync set-connection')})`,
  );
  const serving = servingStation(dataDir);
  console.log(workerLine({ worker, serving, connected, lastSyncedAt }, dataDir));
  for (const line of attentionLines(attention, Date.now(), dataDir)) console.log(line);
  if (bundles > 0) {
    console.log(
      carried === 0
        ? `Outbox bundles: ${bundles} exported; every carried enrollment is settled here (${station('bundle list')})`
        : `Outbox bundles: ${bundles} exported; ${carried} carried enrollment(s) still pending here, waiting for a receipt (${station('bundle list')})`,
    );
  }
  return 0;
}

/** When this outbox last had an enrollment synced (what its worker last reported), if ever. */
function lastSynced(db: Parameters<typeof activeSyncHolder>[0]): string | undefined {
  const at = db.prepare(`SELECT max(synced_at) FROM enrollments`).pluck().get();
  return typeof at === 'string' ? at : undefined;
}

/**
 * What waits and why, in the words a supervisor reads them; nothing when all is synced.
 * @param dataDir the data folder read, named in the command given when it is not the default
 */
export function attentionLines(
  attention: OutboxAttention,
  now: number,
  dataDir?: string,
): string[] {
  const lines: string[] = [];
  const { oldestWaiting: oldest, latestProblem: problem } = attention;
  if (oldest) {
    lines.push(
      `Waiting longest: ${oldest.registrationId}, passed ${zonedLocalTime(oldest.createdAt)} (${ago(oldest.createdAt, now)})`,
    );
  }
  if (problem) {
    lines.push(
      `Latest sync problem: ${problem.code} on ${problem.registrationId} (${problem.status}) at ${zonedLocalTime(problem.at)}${retryText(problem, now)}`,
    );
    if (problem.message) lines.push(`  ${problem.message}`);
    // This process has only the row's text, not the DpsError, and the row keeps node's code
    // there: read it back with the DPS client's own list to say which check failed.
    if (problem.code === 'SYNC_DPS_UNTRUSTED') {
      lines.push(`  ${untrustedDpsText(tlsRefusalNamedIn(problem.message ?? '')?.kind)}`);
    } else if (Object.hasOwn(syncErrorText, problem.code)) {
      // The row keeps the detail only; what to do is the code's (a host name that does not
      // resolve must not read as a network that is down).
      lines.push(`  ${syncErrorText[problem.code as keyof typeof syncErrorText]}`);
    }
    if (problem.status === 'failed' || problem.status === 'conflict') {
      lines.push(
        `  Failed and conflict rows wait for a supervisor: ${stationCommand(`queue list --status ${problem.status}`, dataDir)}`,
      );
    }
  }
  return lines;
}

/** When a pending problem row is tried again; nothing for a row that waits for a person. */
function retryText(problem: LatestSyncProblem, now: number): string {
  if (problem.status !== 'pending') return '';
  const next = problem.nextAttemptAt;
  if (next === null) return '; due at the next send';
  // Past its time, the row waits for a worker's next look (or for a worker at all).
  if (Date.parse(next) <= now) return `; due again since ${zonedLocalTime(next)}`;
  // The station's own delay (not DPS's) is no reason for a supervisor to wait: say so.
  const own = isStationOwnWait(problem.code) ? "; a supervisor's sync now sends it at once" : '';
  return `; next try not before ${zonedLocalTime(next)} (${inTime(next, now)}${own})`;
}

/**
 * What a "sync now" did not send because it was not due, and what it sent without waiting: a
 * supervisor who just fixed a cause must not read "0 synced" as "nothing happened".
 * @param before the waits as the command started (the station's own are sent at once)
 * @param after the waits left when it ended
 */
export function retryWaitLines(before: RetryWaits, after: RetryWaits, now: number): string[] {
  const lines: string[] = [];
  const own = before.stationOwn;
  if (own) {
    lines.push(
      `Not waited for: ${own.count} enrollment(s) waiting out the station's own retry delay after ${own.codes.join(', ')} (until ${own.last}) were due at once: sync now does not wait for the station's own delay.`,
    );
  }
  if (after.dps) {
    lines.push(
      `Due later, not sent: ${after.dps.count} enrollment(s) wait for DPS (${after.dps.codes.join(', ')}: it throttled or failed them), ${until(after.dps, now)}. Sync now honours DPS's waits: run it again after that, or let a serving station send them.`,
    );
  }
  if (after.stationOwn) {
    lines.push(
      `Due later, not sent: ${after.stationOwn.count} enrollment(s) failed again here (${after.stationOwn.codes.join(', ')}) and wait out the station's retry delay, ${until(after.stationOwn, now)}. Fix the cause, then run sync now again: it sends them at once.`,
    );
  }
  return lines;
}

function until(rows: WaitingRows, now: number): string {
  const first = `the first not before ${zonedLocalTime(rows.first)} (${inTime(rows.first, now)})`;
  return rows.last === rows.first
    ? first
    : `${first}, the last not before ${zonedLocalTime(rows.last)}`;
}

function inTime(iso: string, now: number): string {
  const seconds = Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000));
  if (seconds < 120) return `in ${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 120 ? `in ${minutes} min` : `in ${Math.ceil(minutes / 60)} h`;
}

function ago(iso: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
}

async function setConnection(dataDir: string, actor: AuditActor): Promise<number> {
  const text = await readPassphrase('DPS service connection string: ', {
    env: 'LINE_STATION_DPS_CONNECTION',
  });
  // Checked before the CA passphrase is asked for: an IoT hub's string, or a bad one, is told
  // at once rather than after a passphrase typed for nothing.
  parseConnectionString(text);
  const wrapper = await checkedCaPassphrase(dataDir, {
    refusal: { command: 'sync set-connection', actor },
  });
  const replaced = hasDpsConnection(dataDir);
  const saved = await auditedChange(
    stationPaths(dataDir).database,
    () => saveDpsConnectionString(dataDir, text, wrapper),
    // The host and the policy's name say which DPS and which rights; the key and the string
    // that holds it never reach the trail.
    (stored) => ({
      actor,
      kind: 'dps-connection.stored',
      subject: `dps:${stored.hostName}`,
      detail: {
        hostName: stored.hostName,
        sharedAccessKeyName: stored.sharedAccessKeyName,
        replaced,
        file: stored.file,
      },
    }),
  );
  console.log(
    `The connection to ${saved.hostName} (policy ${saved.sharedAccessKeyName}) is sealed in ${saved.file}.`,
  );
  const serving = storedWhileServingText(
    { worker: runningSyncWorker(dataDir), serving: servingStation(dataDir), connected: true },
    dataDir,
  );
  if (serving !== undefined) console.log(serving);
  return 0;
}

/** The sync worker of a line running from `dataDir`, if any; none when the store cannot say. */
function runningSyncWorker(dataDir: string): SyncWorkerFacts['worker'] {
  if (!existsSync(stationPaths(dataDir).database)) return undefined; // no line has run here
  try {
    const db = openExistingStationDatabase(dataDir, { toRead: true });
    try {
      return activeSyncHolder(db);
    } finally {
      db.close();
    }
  } catch {
    return undefined; // a store that cannot be read says nothing of a worker
  }
}

async function syncNow(dataDir: string, openDps: DpsClientFactory): Promise<number> {
  const wrapper = new PassphraseKeyWrapper(await readPassphrase('CA passphrase: '), {
    session: true,
  });
  const dps = openDps(
    await recordingPassphraseRefusal(
      stationPaths(dataDir).database,
      { command: 'sync now', actor: supervisorActor(undefined) },
      () => loadDpsConnectionString(dataDir, wrapper),
    ),
  );
  const db = openStationDatabase(stationPaths(dataDir).database, { requireWritable: true });
  const worker = new SyncWorker({
    db,
    dps,
    openSecret: sealedText(wrapper).open,
    // Group members are synced once DPS shows their group with the key stored here.
    groupKeys: groupKeyFingerprints(loadGroupKeySource(dataDir, wrapper)),
  });
  try {
    const before = readRetryWaits(db, Date.now());
    worker.start();
    const { counts, session } = await worker.syncNow();
    console.log(
      `Sent: ${session.synced} synced${groupPart(session.groupConfirmed)}, ${session.failed} failed, ${session.conflicts} conflict; ${session.operations} DPS operations.`,
    );
    const now = Date.now();
    for (const line of retryWaitLines(before, readRetryWaits(db, now), now)) console.log(line);
    console.log(
      `Outbox: ${counts.pending} pending, ${counts.synced} synced, ${counts.failed} failed, ${counts.conflict} conflict.`,
    );
    return counts.failed + counts.conflict > 0 ? 1 : 0;
  } finally {
    await worker.stop();
    db.close();
    dps.close?.();
  }
}

/** Of the synced, how many are group members DPS's enrollment group was confirmed for. */
function groupPart(confirmed: number): string {
  return confirmed === 0
    ? ''
    : ` (${confirmed} of them group members whose enrollment group DPS showed with this station's group key)`;
}
