import {
  parseConnectionString,
  type DpsConnectionString,
} from '../../dps/auth/connectionString.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BundleError } from '../bundle/bundleErrors.js';
import {
  isReceiptOf,
  openBundle,
  readSealedFile,
  writeReceiptFile,
} from '../bundle/bundleFiles.js';
import { sealReceipt, syncBundle, type BundleSyncSummary } from '../bundle/bundleSync.js';
import type { RetryWait } from '../bundle/bundleSyncWait.js';
import { bundleWorkStorePath } from '../bundle/bundleWorkStore.js';
import type { SyncProgress } from '../sync/syncTypes.js';
import { hasDpsConnection, loadDpsConnectionString } from '../sync/dpsCredentials.js';
import { bundleWrapper, defaultReceiptName } from './bundleCli.js';
import {
  EXPORT_AGAIN_STEP,
  groupFailureLines,
  groupFailuresOf,
  type GroupFailures,
} from './bundleGroupAdvice.js';
import { shellWord, stationCommand } from './stationCommand.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { readPassphrase } from './passphrase.js';
import { secretFromEnv } from './secretEnv.js';
import type { DpsClientFactory } from './syncCommand.js';
import { zonedLocalTime } from './timeFlags.js';

const DPS_CONNECTION_ENV = 'LINE_STATION_DPS_CONNECTION';

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
  options: { receiptFile?: string; by: string },
  openDps: DpsClientFactory,
): Promise<number> {
  const sealed = readSealedFile(file, 'bundle');
  const out = options.receiptFile ?? defaultReceiptName(file);
  // Before DPS is called: a receipt that cannot be written would strand what DPS answered.
  checkReceiptTarget(out, sealed.bundleId);
  const wrapper = await bundleWrapper(false);
  const payload = await openBundle(sealed, wrapper);
  const { connection, source } = await dpsConnection(dataDir, options.by);
  const dps = openDps(connection);
  const total = payload.enrollments.length;
  const retiring = payload.retirements?.length ?? 0;
  const carries =
    retiring > 0
      ? `${total} enrollment(s) and ${retiring} earlier one(s) to retire`
      : `${total} enrollment(s)`;
  console.log(
    `Bundle ${payload.bundleId} from ${payload.source.host}: ${carries}, to ${connection.hostName} (${source}).`,
  );
  console.log(
    `  work folder: ${bundleWorkStorePath(dataDir, payload.bundleId, connection.hostName)}`,
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
      syncedBy: options.by,
      // A bundle of retirements alone has no enrollment to count.
      ...(total > 0 && { onProgress: progressPrinter(total) }),
      onWaiting: (wait) => console.log(waitingLine(wait)),
      signal: stop.signal,
    });
  } finally {
    process.off('SIGINT', interrupt);
    dps.close?.();
  }
  const { receipt, summary } = result;
  // Another process syncs this bundle on this machine: its receipt is the one to carry.
  if (summary.lastError?.code === 'SYNC_WORKER_ELSEWHERE') {
    throw new BundleError('BUNDLE_SYNC_BUSY', summary.lastError.detail);
  }
  if (total > 0) {
    console.log(
      `DPS answered: ${summary.synced} synced, ${summary.failed} failed, ${summary.conflict} conflict; ${summary.pending} without an answer.`,
    );
  }
  if (summary.retirements) console.log(retirementLine(summary.retirements));
  writeReceiptFile(out, await sealReceipt(receipt, wrapper), payload.bundleId);
  const said = { ...summary, groupFailures: groupFailuresOf(receipt) };
  for (const line of afterSyncLines(said, { bundle: file, receipt: out, source, dataDir })) {
    console.log(line);
  }
  // A retirement left due is work undone too, and all there is in a bundle of retirements alone.
  const undone =
    summary.failed + summary.conflict + summary.pending + (summary.retirements?.due ?? 0);
  return undone > 0 ? 1 : 0;
}

/** One line on the earlier enrollments of re-provisioned devices the bundle carried. */
export function retirementLine(counts: NonNullable<BundleSyncSummary['retirements']>): string {
  const due = counts.due > 0 ? `; ${counts.due} still due (they go in the line's next bundle)` : '';
  const deleted =
    counts.deleted > 0 ? `, ${counts.deleted} deleted (a group member uses the ID)` : '';
  return `Retired in DPS: ${counts.disabled} disabled${deleted}, ${counts.absent} not there, ${counts.notOurs} not shown to be ours (left alone)${due}.`;
}

/** A sync's summary, with the group members that failed on their group (from its receipt). */
export interface AfterSyncSummary extends BundleSyncSummary {
  groupFailures?: GroupFailures;
}

/**
 * What the receipt holds and what to do next, in order. A receipt with rows still pending is
 * not the end: the cause is fixed and `bundle sync` run again first (it goes on where it
 * stopped and rewrites the receipt); this one settles only what DPS answered. One that answers
 * nothing is not called useless: rows sent with no answer (a timeout) are marked on the line to
 * be read back from DPS when it is applied, so the next run's receipt is the one to carry.
 */
export function afterSyncLines(
  summary: AfterSyncSummary,
  files: {
    bundle: string;
    receipt: string;
    source: string;
    /** This machine's data folder, where the sync goes on; the line's own is not known here. */
    dataDir?: string;
  },
  now = Date.now(),
): string[] {
  const lines: string[] = [];
  if (summary.lastError) {
    lines.push(`Stopped early: ${summary.lastError.message} [${summary.lastError.code}]`);
  }
  if (summary.pending === 0) {
    lines.push(
      `Receipt: ${files.receipt}. Take it back to the station and run \`station bundle receive\`.`,
    );
    return [...lines, ...groupFailureLines(summary.groupFailures)];
  }
  const answered = summary.synced + summary.failed + summary.conflict;
  lines.push(
    answered === 0
      ? `Receipt: ${files.receipt}. It carries no final answer yet (all ${summary.pending} enrollment(s) still pending): take back the one the next run writes instead.`
      : `Receipt: ${files.receipt}. It holds ${answered} final answer(s) (${summary.synced} synced, ${summary.failed} failed, ${summary.conflict} conflict) and ${summary.pending} enrollment(s) still pending.`,
  );
  const cause = firstStep(summary, files.source, now);
  // Members whose group key the bundle lacks wait whatever this bundle's next run does: a new
  // bundle goes instead, exported once this receipt's answers are home (else it carries them too).
  const rerun = summary.lastError?.code !== 'SYNC_GROUP_KEY_UNAVAILABLE';
  const steps = [
    ...(!rerun && answered > 0
      ? [
          `Take this receipt back to the station and run \`station bundle receive\`: it settles the ${answered} answered.`,
        ]
      : []),
    ...(cause ? [cause] : []),
    rerun
      ? `Run \`${stationCommand(`bundle sync ${shellWord(files.bundle)}`, files.dataDir)}\` again: it goes on where it stopped and writes the receipt again, with every answer so far.`
      : `Sync that new bundle here: \`${stationCommand('bundle sync FILE', files.dataDir)}\`.`,
    'Take that receipt back to the station and run `station bundle receive`.',
  ];
  lines.push('Next:', ...steps.map((step, i) => `  ${i + 1}. ${step}`));
  if (answered > 0) {
    lines.push(
      `This receipt may be taken back now only for the ${answered} enrollment(s) already answered; the ${summary.pending} pending stay pending on the line until a later receipt answers them.`,
    );
  }
  return [...lines, ...groupFailureLines(summary.groupFailures)];
}

/** A receipt may go to a new file, or over an earlier receipt of this bundle; nothing else. */
function checkReceiptTarget(out: string, bundleId: string): void {
  if (existsSync(out)) {
    if (statSync(out).isDirectory()) {
      throw new BundleError('BUNDLE_RECEIPT_TARGET_UNUSABLE', `${out} is a folder`);
    }
    if (!isReceiptOf(out, bundleId)) throw new BundleError('BUNDLE_FILE_EXISTS', out);
  }
  try {
    accessSync(dirname(out), constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError(
      'BUNDLE_RECEIPT_TARGET_UNUSABLE',
      `${dirname(out)}: ${code ?? String(err)}`,
    );
  }
}

/** What to do first about the rows left pending, by why the sync stopped; none to fix. */
function firstStep(summary: BundleSyncSummary, source: string, now: number): string | undefined {
  switch (summary.lastError?.code) {
    case 'SYNC_CREDENTIALS_REFUSED':
      return `Correct the DPS connection string DPS refused (${source}).`;
    case 'SYNC_DPS_UNTRUSTED':
      // The text above says which check failed, and names LINE_STATION_DPS_CA when it helps.
      return 'Fix what the DPS certificate check refused, as said above.';
    case 'SYNC_CLOCK_WRONG':
      return "Set this machine's date and time.";
    case 'SYNC_OFFLINE':
      return 'Wait until this machine can reach DPS.';
    case 'SYNC_DPS_HOST_UNKNOWN':
      return `Check the DPS host name in the connection string (${source}), or this machine's DNS.`;
    case 'SYNC_DPS_CONNECTION_REFUSED':
      return `Check the DPS host and port in the connection string (${source}), a proxy or firewall, or that the DPS emulator runs there.`;
    case 'SYNC_GROUP_KEY_UNAVAILABLE':
      return EXPORT_AGAIN_STEP;
  }
  const at = summary.dpsRetryAt ? Date.parse(summary.dpsRetryAt) : undefined;
  return at !== undefined && at > now
    ? `Wait until after ${zonedLocalTime(summary.dpsRetryAt!)}: DPS asked to retry then.`
    : undefined;
}

/** What the sync waits for, said before it waits. */
export function waitingLine(wait: RetryWait): string {
  const until = zonedLocalTime(wait.until.toISOString());
  const why = wait.byDps
    ? 'DPS asked to retry some enrollments'
    : `Some enrollments wait out the station's retry delay after ${wait.code}`;
  return `  ${why}: waiting until ${until} (Ctrl-C stops and writes the receipt)`;
}

/** This machine's DPS connection, and where it came from, for the operator to see. */
async function dpsConnection(
  dataDir: string,
  by: string,
): Promise<{ connection: DpsConnectionString; source: string }> {
  if (hasDpsConnection(dataDir)) {
    const ignored = secretFromEnv(DPS_CONNECTION_ENV) ? `; ${DPS_CONNECTION_ENV} is not used` : '';
    return {
      connection: await loadDpsConnectionString(
        dataDir,
        await checkedCaPassphrase(dataDir, {
          refusal: { command: 'bundle sync', actor: `supervisor:${by}` },
        }),
      ),
      source: `the connection sealed in ${dataDir}${ignored}`,
    };
  }
  const text = await readPassphrase('DPS service connection string: ', { env: DPS_CONNECTION_ENV });
  // The read took the variable out of process.env: ask where it came from.
  const source = secretFromEnv(DPS_CONNECTION_ENV)
    ? DPS_CONNECTION_ENV
    : 'the connection string typed';
  return { connection: parseConnectionString(text), source };
}

/**
 * A line per second at most while rows settle, so a long bundle shows it is moving. The count is
 * the work store's, not this run's: a sync that goes on where an earlier one stopped would
 * otherwise start from 0 with rows already answered, and end short of the total.
 */
function progressPrinter(total: number): (progress: SyncProgress) => void {
  let last = 0;
  let shown = -1;
  return ({ counts, session }) => {
    const done = counts.synced + counts.failed + counts.conflict;
    const now = Date.now();
    if (done === shown || (now - last < 1_000 && done < total)) return;
    last = now;
    shown = done;
    // This run's answers (group members count in `synced`); the rest came before it.
    const before = done - (session.synced + session.failed + session.conflicts);
    console.log(
      `  ${done} of ${total} answered${before > 0 ? ` (${before} before this run)` : ''}`,
    );
  };
}
