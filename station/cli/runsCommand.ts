import { parseStationArgs } from './stationArgs.js';
import type { EndorsementEvidence } from '../line/lineTypes.js';
import type { RunStarter } from '../line/runRecorder.js';
import { idScopeProblem } from '../profiles/dpsSettings.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { RUN_STATES, type RunState, type RunSummary } from '../store/runHistory.js';
import { resolveDataDir } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { sinceFlag, zonedLocalTime } from './timeFlags.js';
import { countFlag, UsageError } from './usageError.js';

export const RUNS_USAGE = `  runs [list] [--state S] [--port PATH] [--serial SN] [--id-scope SCOPE] [--since WHEN]
             [--limit N]                         the latest provisioning runs, newest first: when,
                                                 state, port, device, registration ID, error;
                                                 --id-scope: those that wrote that DPS ID scope
  runs show  ID                                  one run whole: its steps and their times, the
                                                 error with its detail, the certificate, the DPS
                                                 settings written and the profile's fingerprint;
                                                 for a TPM, its EK, EK certificate and vendor chain
  runs stats [--since WHEN] [--port PATH]        how the runs since WHEN ended, per state, and the
                                                 failures per error code (default: the last 24h)
          states: ${RUN_STATES.join(', ')}; WHEN: 30m, 8h, 2d, or a local date or date and
          time (2026-12-05, 2026-12-05T06:00); times are shown in local time with the UTC
          offset (2026-12-05 06:00:00 +01:00); --json prints JSON instead, times in ISO 8601
          UTC; --data-dir DIR`;

const DEFAULT_STATS_WINDOW = '24h';

/** The filters each subcommand applies. */
const TAKES: Record<'list' | 'show' | 'stats', readonly string[]> = {
  list: ['state', 'port', 'serial', 'id-scope', 'since', 'limit'],
  show: [],
  stats: ['since', 'port'],
};

/** `station runs …`: what the line did, device by device: the record behind every FAIL. */
export async function runs(args: string[], now: () => Date = () => new Date()): Promise<number> {
  // `station runs` alone, or with flags only, lists.
  const [first, ...tail] = args;
  const sub = first === undefined || first.startsWith('-') ? 'list' : first;
  const rest = sub === first ? tail : args;
  const { values, positionals } = parseStationArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      serial: { type: 'string' },
      'id-scope': { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (sub !== 'list' && sub !== 'show' && sub !== 'stats') {
    console.error(`station runs: unknown subcommand "${sub ?? ''}"\n${RUNS_USAGE}`);
    return 2;
  }
  // A filter a subcommand would not apply is refused: `stats --state pass` printing every
  // state's counts would read as that filter's answer.
  const ignored = (['state', 'port', 'serial', 'id-scope', 'since', 'limit'] as const).filter(
    (flag) => values[flag] !== undefined && !TAKES[sub].includes(flag),
  );
  if (ignored.length > 0) {
    throw new UsageError(`runs ${sub} takes no ${ignored.map((f) => `--${f}`).join(', ')}`);
  }
  if (sub !== 'show' && positionals.length > 0) {
    throw new UsageError(`runs ${sub} takes no "${positionals.join(' ')}"`);
  }
  const state = values.state as RunState | undefined;
  if (state !== undefined && !RUN_STATES.includes(state)) {
    throw new UsageError(`--state must be one of ${RUN_STATES.join(', ')}, not "${state}"`);
  }
  // Flags are checked before the database opens, so a typo never waits for a large one. A
  // mistyped scope would list no run, which reads as "no device got it".
  const scope = values['id-scope'];
  const scopeProblem = scope === undefined ? undefined : idScopeProblem(scope);
  if (scopeProblem !== undefined) throw new UsageError(`--id-scope ${scopeProblem}`);
  const limit = countFlag('--limit', values.limit ?? '50');
  const since = values.since === undefined ? undefined : sinceFlag(values.since, now());
  const id = sub === 'show' ? runIdArgument(positionals) : undefined;
  const dataDir = resolveDataDir(values['data-dir']);
  const db = openExistingStationDatabase(dataDir, { toRead: true });
  try {
    const store = new ProvisioningStore(db);
    const print = (value: unknown): void => console.log(JSON.stringify(value, null, 2));
    if (sub === 'stats') {
      const from = since ?? sinceFlag(DEFAULT_STATS_WINDOW, now());
      const stats = store.runStats(from.toISOString(), values.port);
      if (values.json) {
        print({ since: from.toISOString(), ...(values.port && { port: values.port }), ...stats });
      } else printStats(from, values.since ?? DEFAULT_STATS_WINDOW, values.port, stats);
      return 0;
    }
    if (id !== undefined) {
      const run = store.run(id);
      if (!run) {
        console.error(`station runs: there is no run ${id} in ${dataDir}`);
        return 1;
      }
      if (values.json) print(run);
      else printRun(run);
      return 0;
    }
    const list = store.runs({
      limit,
      ...(state !== undefined && { state }),
      ...(values.port !== undefined && { port: values.port }),
      ...(values.serial !== undefined && { serialNumber: values.serial }),
      ...(scope !== undefined && { idScope: scope }),
      ...(since !== undefined && { since: since.toISOString() }),
    });
    if (values.json) print(list);
    else if (list.length === 0) console.log('No run matches.');
    else for (const run of list) console.log(runLine(run));
    return 0;
  } finally {
    db.close();
  }
}

function runIdArgument(positionals: string[]): number {
  const [text] = positionals;
  if (text === undefined) throw new UsageError('runs show needs the run id (runs list shows it)');
  return countFlag('the run id', text);
}

/** One line per run: what a supervisor scans for the failing port or device. */
function runLine(run: RunSummary): string {
  const error = run.error ? `  [${run.error.code}] ${run.error.message}` : '';
  return (
    [
      String(run.id).padStart(7),
      zonedLocalTime(run.startedAt),
      run.state.padEnd(9),
      run.port,
      run.serialNumber ?? '-',
      run.registrationId ?? '-',
    ].join('  ') + error
  );
}

/** Who started a run, as `runs show` adds it to the start time. */
const STARTED_BY: Record<RunStarter, string> = {
  operator: ', by the operator',
  auto: ', by auto mode',
};

/** The start's "by …": the operator by name when the run recorded one (`station provision`). */
function startedByText(run: RunSummary): string {
  if (run.startedBy === null) return '';
  const name = run.startedBy === 'operator' ? run.operatorName : null;
  return name === null ? STARTED_BY[run.startedBy] : `${STARTED_BY[run.startedBy]} ${name}`;
}

/** The TPM an EK certificate names: maker, model and version as the certificate writes them. */
function tpmText(tpm: NonNullable<EndorsementEvidence['certificate']>['tpm']): string | null {
  if (tpm === undefined) return null;
  const parts = [
    tpm.manufacturer && `maker ${tpm.manufacturer}`,
    tpm.model && `model ${tpm.model}`,
    tpm.version && `version ${tpm.version}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : null;
}

/** A TPM run's EK and what its certificate was checked against, as `runs show` lists them. */
function endorsementRows(ek: EndorsementEvidence | undefined): [string, string | null][] {
  if (ek === undefined) return [];
  return [
    ['TPM EK', `${ek.ekType.toUpperCase()}, SHA-256 ${ek.ekSha256}`],
    ['EK cert', ek.certificate ? `SHA-256 ${ek.certificate.certificateSha256}` : 'none'],
    ['TPM', tpmText(ek.certificate?.tpm)],
    // The EK certificate first, then each CA that issued the one before it, up to the root.
    ['EK chain', ek.certificate ? ek.certificate.chain.join(' → ') : null],
    ...ek.notes.map((note): [string, string] => ['EK note', note]),
  ];
}

function printRun(run: RunSummary): void {
  // A run from before the station kept its DPS settings (migration 014) says so, not nothing.
  const notRecorded = 'not recorded (a run from before the station kept it)';
  const rows: [string, string | null][] = [
    ['port', run.port],
    ['profile', `${run.profile}, fingerprint ${run.dps?.profileFingerprint ?? notRecorded}`],
    ['ID scope', run.dps?.idScope ?? notRecorded],
    ['DPS endpoint', run.dps?.globalEndpoint ?? notRecorded],
    ['device', run.serialNumber && `${run.serialNumber} (${run.model ?? 'model unknown'})`],
    ['registration', run.registrationId],
    ['certificate', run.certificateSerial],
    ['started', `${zonedLocalTime(run.startedAt)}${startedByText(run)}`],
    // An interrupted run was closed at a later start: that is no time the run took.
    run.error?.code === 'RUN_INTERRUPTED'
      ? ['closed', run.finishedAt && `${zonedLocalTime(run.finishedAt)}, at a later start`]
      : ['finished', run.finishedAt && `${zonedLocalTime(run.finishedAt)} (${duration(run)})`],
    ['error', run.error && `[${run.error.code}] ${run.error.message}`],
    ['detail', run.error?.detail ?? null],
    ...endorsementRows(run.evidence?.endorsement),
  ];
  console.log(`Run ${run.id}: ${run.state}`);
  for (const [name, value] of rows) if (value) console.log(`  ${name.padEnd(13)} ${value}`);
  if (run.steps.length === 0) return;
  console.log('  steps');
  for (const step of run.steps) {
    console.log(
      `    ${step.step.padEnd(10)} ${String(step.endedAt - step.startedAt).padStart(7)} ms`,
    );
  }
}

function duration(run: RunSummary): string {
  const ms = Date.parse(run.finishedAt ?? run.startedAt) - Date.parse(run.startedAt);
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function printStats(
  from: Date,
  window: string,
  port: string | undefined,
  stats: ReturnType<ProvisioningStore['runStats']>,
): void {
  const total = Object.values(stats.byState).reduce((sum, n) => sum + n, 0);
  const where = port === undefined ? '' : ` on ${port}`;
  console.log(
    `Runs started${where} since ${zonedLocalTime(from.toISOString())} (--since ${window}): ${total}`,
  );
  for (const state of RUN_STATES) {
    console.log(`  ${state.padEnd(10)} ${String(stats.byState[state]).padStart(8)}`);
  }
  if (stats.byError.length === 0) return;
  console.log('Runs that did not pass, by error code (the latest run of each, and its text):');
  const width = Math.max(...stats.byError.map((e) => e.code.length));
  for (const e of stats.byError) {
    console.log(
      `  ${e.code.padEnd(width)} ${String(e.runs).padStart(8)}  run ${e.latestRunId}: ${e.message}`,
    );
  }
}
