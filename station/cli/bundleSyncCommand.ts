import {
  parseConnectionString,
  type DpsConnectionString,
} from '../../dps/auth/connectionString.js';
import { openBundle, readSealedFile, writeReceiptFile } from '../bundle/bundleFiles.js';
import { sealReceipt, syncBundle } from '../bundle/bundleSync.js';
import type { SyncProgress } from '../sync/syncTypes.js';
import { hasDpsConnection, loadDpsConnectionString } from '../sync/dpsCredentials.js';
import { bundleWrapper, defaultReceiptName } from './bundleCli.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { readPassphrase } from './passphrase.js';
import type { DpsClientFactory } from './syncCommand.js';

/**
 * `station bundle sync FILE`, on a machine that reaches DPS: the bundle's enrollments go to DPS
 * through the station's sync worker, and the receipt is written whatever happened (what DPS did
 * not answer is pending in it). The DPS connection is this machine's own: the one sealed in its
 * data folder (`sync set-connection`, opened with its CA passphrase), or else the connection
 * string typed or given in LINE_STATION_DPS_CONNECTION, held in memory only.
 */
export async function bundleSyncCommand(
  dataDir: string,
  file: string,
  receiptFile: string | undefined,
  openDps: DpsClientFactory,
): Promise<number> {
  const { text } = readSealedFile(file, 'bundle');
  const wrapper = await bundleWrapper(false);
  const payload = await openBundle(text, wrapper);
  const connection = await dpsConnection(dataDir);
  const dps = openDps(connection);
  const total = payload.enrollments.length;
  console.log(
    `Bundle ${payload.bundleId} from ${payload.source.host}: ${total} enrollment(s), to ${connection.hostName}.`,
  );
  // Ctrl-C while DPS's retries are waited for ends the wait, and still writes the receipt.
  const stop = new AbortController();
  const interrupt = (): void => {
    console.log('Stopping: the receipt holds what DPS answered so far.');
    stop.abort();
  };
  process.once('SIGINT', interrupt);
  let result: Awaited<ReturnType<typeof syncBundle>>;
  try {
    result = await syncBundle({
      dataDir,
      payload,
      wrapper,
      dps,
      dpsHost: connection.hostName,
      onProgress: progressPrinter(total),
      onWaiting: (until) =>
        console.log(
          `  DPS asked to retry some enrollments: waiting until ${until.toLocaleTimeString()} (Ctrl-C stops and writes the receipt)`,
        ),
      signal: stop.signal,
    });
  } finally {
    process.off('SIGINT', interrupt);
    dps.close?.();
  }
  const { receipt, summary } = result;
  const out = receiptFile ?? defaultReceiptName(file);
  writeReceiptFile(out, await sealReceipt(receipt, wrapper), payload.bundleId);
  console.log(
    `DPS answered: ${summary.synced} synced, ${summary.failed} failed, ${summary.conflict} conflict; ${summary.pending} without an answer.`,
  );
  if (summary.lastError) {
    console.log(`Stopped early: ${summary.lastError.message} [${summary.lastError.code}]`);
  }
  console.log(`Receipt: ${out}. Take it back to the station and run \`station bundle receive\`.`);
  if (summary.pending > 0) {
    const retry = summary.nextRetryAt && Date.parse(summary.nextRetryAt) > Date.now();
    console.log(
      retry
        ? `Run this again after ${new Date(summary.nextRetryAt!).toLocaleTimeString()}, when DPS allows the next try: it goes on where it stopped.`
        : 'Run this again when DPS can be reached: it goes on where it stopped.',
    );
  }
  return summary.failed + summary.conflict + summary.pending > 0 ? 1 : 0;
}

async function dpsConnection(dataDir: string): Promise<DpsConnectionString> {
  if (hasDpsConnection(dataDir)) {
    return loadDpsConnectionString(dataDir, await checkedCaPassphrase(dataDir));
  }
  const text = await readPassphrase('DPS service connection string: ', {
    env: 'LINE_STATION_DPS_CONNECTION',
  });
  return parseConnectionString(text);
}

/** A line per second at most while rows settle, so a long bundle shows it is moving. */
function progressPrinter(total: number): (progress: SyncProgress) => void {
  let last = 0;
  let shown = -1;
  return ({ session }) => {
    const done = session.synced + session.skipped + session.failed + session.conflicts;
    const now = Date.now();
    if (done === shown || (now - last < 1_000 && done < total)) return;
    last = now;
    shown = done;
    console.log(`  ${done} of ${total} answered`);
  };
}
