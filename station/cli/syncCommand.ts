import { parseArgs } from 'node:util';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealedText } from '../../certs/custody/secretBox.js';
import type { DpsConnectionString } from '../../dps/auth/connectionString.js';
import type { DpsServiceApi } from '../../dps/service/serviceTypes.js';
import { bundleCount, carriedAwaitingReceipt } from '../bundle/bundleList.js';
import { readOutboxAttention, type OutboxAttention } from '../store/outboxAttention.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import {
  dpsConnectionFile,
  hasDpsConnection,
  loadDpsConnectionString,
  saveDpsConnectionString,
} from '../sync/dpsCredentials.js';
import { activeSyncHolder, type LeaseHolder } from '../sync/syncLease.js';
import { SyncWorker } from '../sync/syncWorker.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { readPassphrase } from './passphrase.js';

export const SYNC_USAGE = `  sync status                                    outbox counts, the DPS connection, whether a sync
                                                 worker runs, what waited longest and the latest
                                                 sync problem
  sync now                                       send every due enrollment to DPS, then exit
  sync set-connection                            store the DPS service connection string, sealed
                                                 under the CA passphrase (the string comes from
                                                 LINE_STATION_DPS_CONNECTION, the terminal, or stdin)
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
    const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' } } });
    const dataDir = resolveDataDir(values['data-dir']);
    switch (sub) {
      case 'status':
        return status(dataDir);
      case 'now':
        return syncNow(dataDir, openDps);
      case 'set-connection':
        return setConnection(dataDir);
      default:
        console.error(`station sync: unknown subcommand "${sub ?? ''}"\n${SYNC_USAGE}`);
        return 2;
    }
  };
}

function status(dataDir: string): number {
  const db = openExistingStationDatabase(dataDir, { toRead: true });
  let attention: OutboxAttention;
  let worker: LeaseHolder | undefined;
  let bundles: number;
  let carried: number;
  try {
    for (const [name, n] of Object.entries(new ProvisioningStore(db).outboxCounts())) {
      console.log(`${name.padEnd(9)} ${String(n).padStart(8)}`);
    }
    attention = readOutboxAttention(db);
    worker = activeSyncHolder(db);
    bundles = bundleCount(db);
    carried = carriedAwaitingReceipt(db);
  } finally {
    db.close();
  }
  console.log(
    hasDpsConnection(dataDir)
      ? `DPS connection: set (sealed in ${dpsConnectionFile(dataDir)})`
      : 'DPS connection: not set (station sync set-connection)',
  );
  console.log(
    worker
      ? `Sync worker: running (process ${worker.pid} on ${worker.host})`
      : 'Sync worker: not running (a station sends the outbox while it serves; `station sync now` sends it once)',
  );
  for (const line of attentionLines(attention, Date.now())) console.log(line);
  if (bundles > 0) {
    console.log(
      carried === 0
        ? `Outbox bundles: ${bundles} exported; every carried enrollment is settled here (station bundle list)`
        : `Outbox bundles: ${bundles} exported; ${carried} carried enrollment(s) still pending here, waiting for a receipt (station bundle list)`,
    );
  }
  return 0;
}

/** What waits and why, in the words a supervisor reads them; nothing when all is synced. */
export function attentionLines(attention: OutboxAttention, now: number): string[] {
  const lines: string[] = [];
  const { oldestWaiting: oldest, latestProblem: problem } = attention;
  if (oldest) {
    lines.push(
      `Waiting longest: ${oldest.registrationId}, passed ${oldest.createdAt} (${ago(oldest.createdAt, now)})`,
    );
  }
  if (problem) {
    const retry =
      problem.status === 'pending'
        ? problem.nextAttemptAt
          ? `; next try not before ${problem.nextAttemptAt}`
          : '; due at the next send'
        : '';
    lines.push(
      `Latest sync problem: ${problem.code} on ${problem.registrationId} (${problem.status}) at ${problem.at}${retry}`,
    );
    if (problem.message) lines.push(`  ${problem.message}`);
    if (problem.status === 'failed' || problem.status === 'conflict') {
      lines.push(
        `  Failed and conflict rows wait for a supervisor: station queue list --status ${problem.status}`,
      );
    }
  }
  return lines;
}

function ago(iso: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
}

async function setConnection(dataDir: string): Promise<number> {
  const text = await readPassphrase('DPS service connection string: ', {
    env: 'LINE_STATION_DPS_CONNECTION',
  });
  const wrapper = await checkedCaPassphrase(dataDir);
  const saved = await saveDpsConnectionString(dataDir, text, wrapper);
  console.log(
    `The connection to ${saved.hostName} (policy ${saved.sharedAccessKeyName}) is sealed in ${saved.file}.`,
  );
  return 0;
}

async function syncNow(dataDir: string, openDps: DpsClientFactory): Promise<number> {
  const wrapper = new PassphraseKeyWrapper(await readPassphrase('CA passphrase: '), {
    session: true,
  });
  const dps = openDps(await loadDpsConnectionString(dataDir, wrapper));
  const db = openStationDatabase(stationPaths(dataDir).database, { requireWritable: true });
  const worker = new SyncWorker({
    db,
    dps,
    openSecret: sealedText(wrapper).open,
  });
  try {
    worker.start();
    const { counts, session } = await worker.syncNow();
    console.log(
      `Sent: ${session.synced} synced, ${session.failed} failed, ${session.conflicts} conflict, ${session.skipped} group members (no call); ${session.operations} DPS operations.`,
    );
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
