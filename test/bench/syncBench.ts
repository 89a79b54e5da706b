/**
 * `npm run bench -- sync`: the sync worker draining a large outbox into the DPS emulator, with
 * and without DPS's rate limit.
 *
 * One outbox of N pending X.509 enrollments (default 20,000; test/fixtures/syncOutbox.ts: a real
 * station database file, a real leaf each, committed through ProvisioningStore) is filled once
 * and copied for each run. Each run: a fresh in-memory emulator, DpsServiceClient over HTTPS on
 * loopback, SyncWorker with its defaults (4 lanes, bulk creates of 10), `syncNow()`.
 *
 * - unthrottled: emulator `rateLimit: false`, worker limit 10^9 operations per ms →
 *   unthrottledPerSec = N / (start() to drained).
 * - limited: DPS's 1,000 operations per window on a scaled window W, the worker given the same
 *   limit. W is chosen so the allowed rate (1,000 × 10 enrollments per W) is `--share` (default
 *   0.5) of the unthrottled rate just measured, so the limit, not the machine, is the ceiling.
 *   t0 = the moment the worker's first DPS call starts (its start-up is not counted); K =
 *   floor(N / 10,000) full windows; limitedRatio = rows whose synced_at < t0 + K·W, divided by
 *   K × 10,000. 1.0 means every window carried its full allowance of enrollments.
 *   The emulator's fixed window is started `--phase` × W before t0 (default 0.75), so its
 *   boundaries fall a quarter window into the worker's bursts: DPS's windows do not start when
 *   the station does, and a boundary inside a burst is where a limiter without enough margin
 *   draws a 429.
 * - throttled429: 429s the emulator answered in the limited run (must be 0).
 * - lost: over both runs, enrollments the emulator does not hold or created more than once.
 *
 * Wall-clock figures depend on the machine and on what else runs; compare the ratios. Exits 1
 * when an enrollment was lost, a row did not end `synced`, or the limited run drew a 429.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startDpsEmulator, type EmulatorStats } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { MAX_BULK_ITEMS, type DpsServiceApi } from '../../dps/service/serviceTypes.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import type { RateLimit } from '../../station/sync/slidingWindowLimiter.js';
import { SyncWorker } from '../../station/sync/syncWorker.js';
import type { SyncSession } from '../../station/sync/syncTypes.js';
import { fillOutbox, syncOutcome, type SyncOutcome } from '../fixtures/syncOutbox.js';
import { printTable } from './table.js';

/** The unthrottled run's worker limit: never reached. */
const NO_LIMIT: RateLimit = { operations: 1e9, windowMs: 1 };

interface RunResult {
  wallMs: number;
  /** Date.now() of each DPS call the worker started, in order. */
  callStarts: number[];
  /** synced_at of every synced row, ms since epoch, ascending. */
  syncedAt: number[];
  session: SyncSession;
  stats: EmulatorStats;
  outcome: SyncOutcome;
}

interface RunOptions {
  template: string;
  dbPath: string;
  workerLimit: RateLimit;
  emulatorLimit: { operationsPerWindow: number; windowMs: number } | false;
  /** Wait this long between starting the emulator's window and starting the worker. */
  phaseMs: number;
}

/** The DPS API with the start time of every call recorded (a Proxy: one line per call). */
function timedDps(dps: DpsServiceApi, starts: number[]): DpsServiceApi {
  return new Proxy(dps, {
    get(target, name) {
      const member: unknown = Reflect.get(target, name, target);
      if (typeof member !== 'function') return member;
      return (...args: unknown[]) => {
        starts.push(Date.now());
        return member.apply(target, args) as unknown;
      };
    },
  });
}

async function syncRun(options: RunOptions): Promise<RunResult> {
  copyFileSync(options.template, options.dbPath);
  const db = openStationDatabase(options.dbPath);
  const emulator = await startDpsEmulator({ rateLimit: false });
  const client = new DpsServiceClient({
    connectionString: emulator.serviceConnectionString,
    ca: emulator.caCertificatePem,
  });
  const callStarts: number[] = [];
  const worker = new SyncWorker({
    db,
    dps: timedDps(client, callStarts),
    openSecret: () => Promise.reject(new Error('this outbox holds no sealed secrets')),
    limit: options.workerLimit,
  });
  try {
    emulator.setRateLimit(options.emulatorLimit);
    if (options.phaseMs > 0) await delay(options.phaseMs);
    const started = performance.now();
    worker.start();
    const progress = await worker.syncNow();
    const wallMs = performance.now() - started;
    const stats = emulator.stats();
    const syncedAt = (
      db
        .prepare(`SELECT synced_at FROM enrollments WHERE status = 'synced' ORDER BY synced_at`)
        .pluck()
        .all() as string[]
    ).map((iso) => Date.parse(iso));
    return {
      wallMs,
      callStarts,
      syncedAt,
      session: progress.session,
      stats,
      outcome: await syncOutcome(db, emulator),
    };
  } finally {
    await worker.stop();
    client.close();
    await emulator.close();
    db.close();
  }
}

/** How many of the ascending `times` fall in [from, to). */
function countIn(times: readonly number[], from: number, to: number): number {
  return times.filter((t) => t >= from && t < to).length;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      enrollments: { type: 'string', default: '20000' },
      operations: { type: 'string', default: '1000' },
      share: { type: 'string', default: '0.5' },
      phase: { type: 'string', default: '0.75' },
      'window-ms': { type: 'string' },
    },
  });
  const count = Number(values.enrollments);
  const operations = Number(values.operations);
  const share = Number(values.share);
  const phase = Number(values.phase);
  const perWindow = operations * MAX_BULK_ITEMS;
  const windows = Math.floor(count / perWindow);
  if (!Number.isInteger(operations) || operations < 1) throw new Error('--operations must be ≥ 1');
  if (!Number.isInteger(count) || windows < 1) {
    throw new Error(`--enrollments must be a whole number ≥ ${perWindow} (one full window)`);
  }
  if (!(share > 0 && share <= 1)) throw new Error('--share must be in (0, 1]');
  if (!(phase >= 0 && phase < 1)) throw new Error('--phase must be in [0, 1)');

  const dir = mkdtempSync(join(tmpdir(), 'sync-bench-'));
  try {
    const template = join(dir, 'outbox.db');
    const fillStarted = performance.now();
    await fillOutbox({ path: template, count, prefix: 'sync-bench' });
    const fillMs = performance.now() - fillStarted;
    console.log(
      `sync bench: ${count} pending X.509 enrollments (one leaf each, committed through ProvisioningStore) filled in ${(fillMs / 1000).toFixed(1)} s; worker defaults (4 lanes, bulk create of ${MAX_BULK_ITEMS}); emulator in this process over HTTPS on loopback`,
    );

    const base = { template };
    const free = await syncRun({
      ...base,
      dbPath: join(dir, 'unthrottled.db'),
      workerLimit: NO_LIMIT,
      emulatorLimit: false,
      phaseMs: 0,
    });
    const unthrottledPerSec = (count / free.wallMs) * 1000;

    const windowMs =
      values['window-ms'] !== undefined
        ? Number(values['window-ms'])
        : Math.ceil(perWindow / (share * unthrottledPerSec) / 0.1) * 100;
    if (!(windowMs > 0)) throw new Error('--window-ms must be > 0');
    const allowedPerSec = (perWindow / windowMs) * 1000;
    console.log(
      `limited run: ${operations} operations per ${windowMs} ms (DPS: per 60,000 ms; time scaled 1/${(60_000 / windowMs).toFixed(1)}); allowed ${Math.round(allowedPerSec)} enrollments/s = ${((allowedPerSec / unthrottledPerSec) * 100).toFixed(0)}% of unthrottled; emulator window started ${phase} W before the worker`,
    );
    const limited = await syncRun({
      ...base,
      dbPath: join(dir, 'limited.db'),
      workerLimit: { operations, windowMs },
      emulatorLimit: { operationsPerWindow: operations, windowMs },
      phaseMs: phase * windowMs,
    });

    const t0 = limited.callStarts[0] ?? Number.NaN;
    const windowRows = Array.from({ length: windows }, (_, k) => {
      const from = t0 + k * windowMs;
      const to = from + windowMs;
      const synced = countIn(limited.syncedAt, from, to);
      return [`window ${k + 1}`, countIn(limited.callStarts, from, to), synced, perWindow];
    });
    const inWindows = countIn(limited.syncedAt, t0, t0 + windows * windowMs);
    const limitedRatio = inWindows / (windows * perWindow);

    const runRow = (name: string, r: RunResult): (string | number)[] => [
      name,
      (r.wallMs / 1000).toFixed(2),
      Math.round((count / r.wallMs) * 1000),
      r.session.operations,
      (r.session.operations / count).toFixed(3),
      r.stats.throttled429,
      r.outcome.statuses.synced ?? 0,
      r.outcome.lost,
    ];
    printTable(
      ['run', 'wall s', 'enroll/s', 'DPS calls', 'calls/enroll', '429s', 'synced', 'lost'],
      [runRow('unthrottled', free), runRow('limited', limited)],
    );
    console.log('');
    printTable(['limited, from first call', 'calls', 'synced', 'allowed'], windowRows);
    console.log(
      `limitedRatio = ${inWindows} synced in ${windows} full window(s) from the first call / ${windows * perWindow} allowed = ${limitedRatio.toFixed(4)}`,
    );

    const lost = free.outcome.lost + limited.outcome.lost;
    const unsynced = [free, limited].filter((r) => (r.outcome.statuses.synced ?? 0) !== count);
    for (const [name, r] of [
      ['unthrottled', free],
      ['limited', limited],
    ] as const) {
      const { statuses, notHeld, wrongCredentials, notCreatedOnce, strangers } = r.outcome;
      if (r.outcome.lost > 0 || strangers.length > 0 || (statuses.synced ?? 0) !== count) {
        console.log(
          `${name}: outbox ${JSON.stringify(statuses)}; not held ${notHeld.length}, other certificate ${wrongCredentials.length}, not created once ${notCreatedOnce.length}, not ours ${strangers.length}`,
        );
      }
    }
    if (lost > 0 || unsynced.length > 0 || limited.stats.throttled429 > 0) process.exitCode = 1;
    const round = (n: number, digits: number) => Number(n.toFixed(digits));
    console.log(
      JSON.stringify({
        suite: 'sync',
        limitedRatio: round(limitedRatio, 4),
        throttled429: limited.stats.throttled429,
        unthrottledPerSec: Math.round(unthrottledPerSec),
        lost,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
