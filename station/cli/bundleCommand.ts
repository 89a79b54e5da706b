import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseStationArgs, strayWordsText } from './stationArgs.js';
import { sealedText, type KeyWrapper } from '../../certs/custody/secretBox.js';
import { BundleError } from '../bundle/bundleErrors.js';
import { exportBundle, refuseNothingToExport, type ExportSummary } from '../bundle/bundleExport.js';
import { openReceipt, readSealedFile } from '../bundle/bundleFiles.js';
import type { ReceiptPayload } from '../bundle/bundlePayload.js';
import { listBundles, type BundleListing } from '../bundle/bundleList.js';
import {
  bundleWorkFolder,
  listBundleWork,
  type BundleWorkListing,
} from '../bundle/bundleWorkList.js';
import { applyReceipt, refuseUnknownBundle } from '../bundle/bundleReceive.js';
import type { AuditActor } from '../store/auditLog.js';
import { loadGroupKeySource } from '../production/groupKeys.js';
import { groupKeyFingerprints } from '../sync/groupKeyFingerprint.js';
import { bundleLostCommand } from './bundleLostCommand.js';
import { bundleSyncCommand } from './bundleSyncCommand.js';
import type { DpsClientFactory } from './syncCommand.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { BUNDLE_PASSPHRASE_ENV, bundleWrapper, defaultBundleName } from './bundleCli.js';
import { shellWord, stationCommand } from './stationCommand.js';
import { zonedLocalTime } from './timeFlags.js';
import { supervisorActor, supervisorName } from './supervisorName.js';
import { UsageError } from './usageError.js';

export const BUNDLE_USAGE = `  bundle export [--out FILE] [--by NAME]        for a line without DPS: seal the pending
                                                 enrollments into FILE (asks a new bundle passphrase,
                                                 and the CA passphrase when symmetric keys or
                                                 group members go in);
                                                 rows another bundle carries stay out of it, unless
                                                 --include-carried (or that bundle is declared lost)
  bundle sync FILE [--receipt FILE] [--by NAME] on a machine that reaches DPS: send the bundle's
                                                 enrollments and write the receipt; run it again
                                                 after an outage and it goes on where it stopped
  bundle receive FILE [--by NAME]               apply a receipt to this station's outbox
  bundle lost ID [--by NAME]                    a bundle that will never be synced (its stick is
                                                 gone): what it carried goes in the next export,
                                                 and retirements stop waiting for its receipt
  bundle list [--json]                          the bundles this station exported, and their receipts;
                                                 then the bundles this data folder synced (its work
                                                 files under bundles/), with their outbox counts
          every bundle command takes --data-dir DIR; the bundle passphrase comes from
          ${BUNDLE_PASSPHRASE_ENV}, the terminal, or stdin; a DPS that is not Azure's
          is trusted for bundle sync only with LINE_STATION_DPS_CA=its CA file`;

/** Each subcommand's options: one given to another (`sync --out`) is refused, not ignored. */
const OPTIONS_OF: Record<string, readonly string[]> = {
  export: ['data-dir', 'out', 'by', 'include-carried'],
  sync: ['data-dir', 'receipt', 'by'],
  receive: ['data-dir', 'by'],
  lost: ['data-dir', 'by'],
  list: ['data-dir', 'json'],
};

/** `station bundle …`; the DPS client factory is passed in as for `station sync`. */
export function bundleCommand(openDps: DpsClientFactory): (args: string[]) => Promise<number> {
  return async (args) => {
    const [sub, ...rest] = args;
    const { values, positionals } = parseStationArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        out: { type: 'string' },
        receipt: { type: 'string' },
        by: { type: 'string' },
        json: { type: 'boolean' },
        'include-carried': { type: 'boolean' },
      },
    });
    const allowed = OPTIONS_OF[sub ?? ''];
    const stray = allowed && Object.keys(values).find((name) => !allowed.includes(name));
    if (stray) throw new UsageError(`station bundle ${sub}: --${stray} is not one of its options`);
    const dataDir = resolveDataDir(values['data-dir']);
    const file = (): string => {
      if (positionals.length !== 1) throw new UsageError(`station bundle ${sub}: give one FILE`);
      return resolve(positionals[0]!);
    };
    const noFile = (): void => {
      if (positionals.length > 0) {
        const hint = sub === 'export' ? ' (the bundle goes where --out FILE says)' : '';
        throw new UsageError(`station bundle ${sub}: ${strayWordsText(positionals.length)}${hint}`);
      }
    };
    switch (sub) {
      case 'export':
        noFile();
        return exportCommand(dataDir, values.out, supervisorActor(values.by), {
          includeCarried: values['include-carried'] ?? false,
        });
      case 'sync':
        return bundleSyncCommand(
          dataDir,
          file(),
          {
            ...(values.receipt !== undefined && { receiptFile: values.receipt }),
            by: supervisorName(values.by),
          },
          openDps,
        );
      case 'receive':
        return receiveCommand(dataDir, file(), supervisorActor(values.by));
      case 'lost':
        if (positionals.length !== 1)
          throw new UsageError('station bundle lost: give one bundle ID');
        return bundleLostCommand(dataDir, positionals[0]!, supervisorName(values.by));
      case 'list':
        noFile();
        return listCommand(dataDir, values.json ?? false);
      default:
        console.error(`station bundle: unknown subcommand "${sub ?? ''}"\n${BUNDLE_USAGE}`);
        return 2;
    }
  };
}

async function exportCommand(
  dataDir: string,
  out: string | undefined,
  actor: AuditActor,
  options: { includeCarried: boolean },
): Promise<number> {
  const file = bundleFileFor(out, new Date());
  const db = openExistingStationDatabase(dataDir);
  try {
    // Refused before any passphrase is typed: nothing to carry, or all of it carried already.
    // The folder is named: an empty outbox in a mistyped --data-dir is not "all synced".
    refuseNothingToExport(db, options.includeCarried, `station data folder ${dataDir}`);
    // Named before any passphrase is typed: the supervisor picks another name and goes on.
    if (existsSync(file)) throw new BundleError('BUNDLE_FILE_EXISTS', file);
    const wrapper = await bundleWrapper(true);
    // Asked once, only if symmetric keys or group members go in.
    let ca: Promise<KeyWrapper> | undefined;
    const caWrapper = (): Promise<KeyWrapper> =>
      (ca ??= checkedCaPassphrase(dataDir, {
        session: true,
        refusal: { command: 'bundle export', actor },
      }));
    const summary = await exportBundle({
      db,
      file,
      wrapper,
      caSecrets: async () => sealedText(await caWrapper()).open,
      // The fingerprints the syncing machine confirms the members' groups in DPS by.
      groupKeys: async () => groupKeyFingerprints(loadGroupKeySource(dataDir, await caWrapper())),
      actor,
      dataDir,
      includeCarried: options.includeCarried,
    });
    for (const line of exportedLines(summary, file)) console.log(line);
    // The sync runs on another machine, with a data folder of its own: only the receive, back
    // here, names this one.
    console.log(
      `They stay ${summary.enrollments > 0 ? 'pending' : 'due'} here until the receipt comes back. On a machine that reaches DPS run\n` +
        `  station bundle sync ${shellWord(file)}\n` +
        '(with the path where that machine sees the file), then bring the receipt it writes back\n' +
        `here and run \`${stationCommand('bundle receive RECEIPT', dataDir)}\`.`,
    );
    return 0;
  } finally {
    db.close();
  }
}

async function receiveCommand(dataDir: string, file: string, actor: AuditActor): Promise<number> {
  const sealed = readSealedFile(file, 'receipt');
  const db = openExistingStationDatabase(dataDir);
  try {
    // The header names the bundle in clear: another station's receipt is refused unopened.
    refuseUnknownBundle(db, sealed.bundleId);
    const receipt = await openReceipt(sealed, await bundleWrapper(false));
    const s = applyReceipt(db, receipt, actor);
    console.log(
      `Receipt of bundle ${s.bundleId} (DPS ${receipt.dpsHost}, written ${zonedLocalTime(receipt.writtenAt)}${syncedOn(receipt)}): ` +
        `${s.synced} synced, ${s.failed} failed, ${s.conflict} conflict, ${s.stillPending} still pending` +
        `${s.exportAgain > 0 ? `, ${s.exportAgain} to export again` : ''}.`,
    );
    if (s.retired > 0) {
      console.log(
        `${s.retired} enrollment(s) to disable in DPS settled (earlier ones of re-provisioned devices, under their old registration ID, or of revoked certificates).`,
      );
    }
    if (s.retiredAgain > 0) {
      console.log(
        `${s.retiredAgain} enrollment(s) this station retired or revoked are back in DPS (this bundle was synced late): they are disabled or deleted again at the next sync or bundle.`,
      );
    }
    if (s.alreadySettled + s.leftAlone > 0) {
      console.log(
        `${s.alreadySettled} were settled here already and ${s.leftAlone} changed since the export (re-provisioned): left as they are.`,
      );
    }
    if (s.heldBySync > 0) {
      console.log(
        `${s.heldBySync} row(s) were being sent by this station's own sync right now, so nothing of their answer was applied: receive this receipt again once that sync has finished (\`${stationCommand(`bundle receive ${shellWord(file)}`, dataDir)}\`).`,
      );
    }
    if (s.stillPending > 0) {
      console.log(
        'The machine that synced got no answer for the pending ones: run `bundle sync` there again when DPS can be reached, and bring the new receipt.',
      );
    }
    if (s.exportAgain > 0) {
      // Another run of this bundle would answer them the same: the receive freed them instead.
      console.log(
        `${s.exportAgain} group member(s) came back unconfirmed: this bundle carries no fingerprint of their group's key (an earlier version exported it, or the key did not open here), or an earlier version synced it without asking DPS, so no run of it can confirm them. ` +
          `They stay pending and go in the next bundle: export again (\`${stationCommand('bundle export', dataDir)}\`; store the group key first with \`station keys set-group --group ID\` if this line has none) and sync that bundle.`,
      );
    }
    for (const status of ['failed', 'conflict'] as const) {
      if (s[status] > 0) {
        console.log(
          `${s[status]} ${status} row(s) wait for a supervisor: ${stationCommand(`queue list --status ${status}`, dataDir)}`,
        );
      }
    }
    return s.failed + s.conflict + s.stillPending + s.exportAgain + s.heldBySync > 0 ? 1 : 0;
  } finally {
    db.close();
  }
}

/** `--out` names the file, or a folder (a stick's mount point) to put the default name in. */
function bundleFileFor(out: string | undefined, now: Date): string {
  // `--out stick/` for a folder that is not there would otherwise write a file named `stick`.
  if (out !== undefined && /[\\/]$/.test(out) && !existsSync(out)) {
    throw new UsageError(`--out ${out}: there is no such folder (is the stick mounted?)`);
  }
  if (out !== undefined && existsSync(out) && statSync(out).isDirectory()) {
    return resolve(out, defaultBundleName(now));
  }
  return resolve(out ?? defaultBundleName(now));
}

function syncedOn(receipt: ReceiptPayload): string {
  return receipt.syncedOn ? ` on ${receipt.syncedOn.host} by ${receipt.syncedOn.by}` : '';
}

/**
 * `bundle list`: what this data folder exported, then what it synced for other stations (its
 * work stores), newest first in each. `--json` prints `{ exported, synced }`.
 */
function listCommand(dataDir: string, json: boolean): number {
  const exported = exportedBundles(dataDir);
  const synced = listBundleWork(dataDir);
  if (json) {
    console.log(JSON.stringify({ exported, synced }, null, 2));
    return 0;
  }
  printExported(exported);
  if (synced.length > 0) printSynced(bundleWorkFolder(dataDir), synced);
  return 0;
}

/**
 * The bundles this station exported. A folder with work stores but no station database (a
 * machine that only syncs bundles) exported none, and gets no empty database for asking; a
 * folder with neither is refused as by every reading command (a mistyped --data-dir).
 */
function exportedBundles(dataDir: string): BundleListing[] {
  if (!existsSync(stationPaths(dataDir).database) && existsSync(bundleWorkFolder(dataDir))) {
    return [];
  }
  const db = openExistingStationDatabase(dataDir, { toRead: true });
  try {
    return listBundles(db);
  } finally {
    db.close();
  }
}

/** What an export wrote: its enrollments, what waits for the next, and the retirements. */
function exportedLines(summary: ExportSummary, file: string): string[] {
  const earlier = summary.retirements - summary.revocations;
  const retiring = [
    ...(earlier > 0
      ? [
          `${earlier} earlier enrollment(s) of re-provisioned devices, to be disabled in DPS under their old registration ID (deleted, where a group member uses it now)`,
        ]
      : []),
    ...(summary.revocations > 0
      ? [
          `${summary.revocations} enrollment(s) whose certificate was revoked, to be disabled in DPS`,
        ]
      : []),
  ].join(', and ');
  if (summary.enrollments === 0) {
    return [
      `Bundle ${summary.bundleId}: no enrollment goes in it; it carries ${retiring}, in ${file}.`,
      ...leftOutLines(summary),
    ];
  }
  const kinds = Object.entries(summary.byAttestation)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  const lines = [
    `Bundle ${summary.bundleId}: ${summary.enrollments} enrollment(s) (${kinds}) in ${file}.`,
  ];
  if (summary.left > 0) {
    lines.push(`${summary.left} more wait in the outbox: export again for the next bundle.`);
  }
  if (summary.retirements > 0) lines.push(`It also carries ${retiring}.`);
  return [...lines, ...leftOutLines(summary)];
}

/** What the export left out for a later bundle: retirements, and the members that wait on them. */
function leftOutLines(summary: ExportSummary): string[] {
  const lines: string[] = [];
  if (summary.retirementsLeft > 0) {
    const why =
      summary.secretsRefused === undefined
        ? 'a bundle carries at most 100, and one whose key does not open stays out'
        : `their symmetric keys need the CA passphrase, which was refused: ${summary.secretsRefused}`;
    lines.push(
      `${summary.retirementsLeft} earlier enrollment(s) due to be disabled or deleted in DPS stay out of this bundle (${why}); a later bundle carries them.`,
    );
  }
  if (summary.membersWaiting > 0) {
    lines.push(
      `${summary.membersWaiting} group member(s) stay pending here, out of this bundle: an earlier individual enrollment under their ID must be deleted from DPS first (or read again, if another party's), and this bundle does not carry that. ${
        summary.secretsRefused === undefined
          ? 'More than 100 are due, or its key does not open with this CA passphrase: receive the receipts of the bundles out and export again; if they stay out, the key does not open: call engineering.'
          : 'Export again with the CA passphrase.'
      }`,
    );
  }
  return lines;
}

function printExported(bundles: BundleListing[]): void {
  if (bundles.length === 0) console.log('No bundle was exported from this station.');
  for (const b of bundles) {
    if (b.writtenAt === null) {
      console.log(
        `${zonedLocalTime(b.createdAt)}  ${b.id}  never written (the export stopped): carries nothing`,
      );
      continue;
    }
    const answered = b.receivedAt
      ? `receipt ${zonedLocalTime(b.receivedAt)}${b.dpsHost === null ? '' : ` from ${b.dpsHost}`}: ${b.receipt!.synced} synced, ${b.receipt!.failed} failed, ${b.receipt!.conflict} conflict`
      : 'no receipt yet';
    const receipt =
      b.lostAt === null
        ? answered
        : `declared lost ${zonedLocalTime(b.lostAt)} by ${b.lostBy}; ${answered}`;
    console.log(
      `${zonedLocalTime(b.createdAt)}  ${b.id}  ${b.enrollments} enrollment(s), ${b.stillPending} still pending${b.retirements > 0 ? `, ${b.retirements} to disable in DPS` : ''}; ${receipt}`,
    );
    console.log(`  ${b.file}`);
  }
}

/** Only the counts of each store are printed: it holds sealed keys, and rows in clear. */
function printSynced(folder: string, stores: BundleWorkListing[]): void {
  console.log(`\nBundles synced from this machine (work files under ${folder}):`);
  for (const w of stores) {
    const when = w.modifiedAt === null ? '(time unknown)'.padEnd(26) : zonedLocalTime(w.modifiedAt);
    if ('error' in w) {
      const detail = w.error.detail === undefined ? '' : `\n  detail: ${w.error.detail}`;
      console.log(`${when}  ${w.bundleId}  to ${w.dpsHost}: cannot be read [${w.error.code}]`);
      console.log(`  ${w.path}\n  ${w.error.message}${detail}`);
      continue;
    }
    const c = w.counts;
    console.log(
      `${when}  ${w.bundleId}  to ${w.dpsHost}: ${c.synced} synced, ${c.failed} failed, ${c.conflict} conflict, ${c.pending} pending, ${c.syncing} syncing`,
    );
    console.log(`  ${w.path}`);
  }
}
