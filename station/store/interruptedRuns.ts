import type Database from 'better-sqlite3';
import { runErrorText } from '../line/runErrors.js';
import { issuedForRun } from '../line/runRecorder.js';
import { AuditLog } from './auditLog.js';
import { OPENED_BEFORE_OWNERS } from './migrations/008_run_owners.js';
import { hostProcessRuns, processStartTicks, type RunOwner } from './runOwner.js';

/** A run that its station never ended, closed at a later start. */
export interface InterruptedRun {
  runId: number;
  port: string;
  /** ISO 8601. */
  startedAt: string;
  /** The certificate issued for it, now `abandoned`, if any. */
  certificateSerial?: string;
  /** Whether a station of this host ran it (or no owner was recorded), so its port is ours. */
  thisHost: boolean;
  /** The board the run was on, when identify had read it before the stop. */
  device?: { serialNumber: string; model: string };
}

/** What closeInterruptedRuns did, for the start-up log. */
export interface InterruptedRunsReport {
  closed: InterruptedRun[];
  /** Open runs of another host, which this one cannot tell from live ones. */
  otherHosts: { host: string; runs: number }[];
  /** Open runs an older station version opened (no owner recorded): live, maybe. */
  olderVersion: number;
}

/** No run lasts this long (a request times out in seconds): one open longer was cut off. */
const OLDEST_LIVE_RUN_MS = 24 * 3_600_000;

interface OpenRun {
  id: number;
  port: string;
  startedAt: string;
  host: string | null;
  pid: number | null;
  token: string | null;
  boot: string | null;
  /** When its process started (migration 023); NULL where it could not be read, or before. */
  start: string | null;
  serialNumber: string | null;
  model: string | null;
}

/**
 * The runs no one ended, with the device each had identified: only those are read, through the
 * partial index `runs_open` (migration 008) or `runs_by_state` (migration 013), whichever SQLite
 * picks; both hold them in id order.
 */
export const OPEN_RUNS_SQL = `SELECT r.id, r.port, r.started_at AS startedAt, r.owner_host AS host,
  r.owner_pid AS pid, r.owner_token AS token, r.owner_boot AS boot,
  r.owner_start AS start, d.serial_number AS serialNumber, d.model
  FROM runs r LEFT JOIN devices d ON d.id = r.device_id WHERE r.state = 'running'
  ORDER BY r.id`;

/**
 * Why `run` is known to be cut off, or undefined when its station may still run it. Only a
 * station of this host can be checked; a wrong guess here could only fail a live run's commit
 * (the commit insists on `running`), never lose a PASS.
 */
function whyInterrupted(run: OpenRun, self: RunOwner, now: Date): string | undefined {
  if (run.token === self.token) return undefined;
  if (run.token === OPENED_BEFORE_OWNERS) return 'open when the station began to record owners';
  const age = now.getTime() - Date.parse(run.startedAt);
  const overADay = age > OLDEST_LIVE_RUN_MS ? 'open for over a day' : undefined;
  // Another host, or an older version: nothing to ask, but no run lasts a day.
  if (run.host === null || run.pid === null || run.host !== self.host) return overADay;
  if (run.boot !== null && self.boot !== undefined && run.boot !== self.boot) {
    return 'the host restarted since it ran';
  }
  if (run.pid === self.pid) return `process ${run.pid} ran it before this station took that pid`;
  if (!hostProcessRuns(run.pid)) return `process ${run.pid} that ran it is gone`;
  // A process has its pid, but maybe not the one that ran it: after a kill, within one boot, the
  // pid may go to an unrelated process, which started at another time.
  if (run.start !== null) {
    const start = processStartTicks(run.pid);
    if (start !== undefined && start !== run.start) {
      return `process ${run.pid} that ran it is gone; another took its pid`;
    }
  }
  // A run of this host is judged by its process alone (a clock set forward must not close a
  // live one), unless neither a boot id nor a start could be recorded (no /proc: Windows): a
  // power cut there hands its pid out again, and only the age can tell.
  if (run.boot === null && run.start === null) return overADay;
  return undefined;
}

/**
 * Ends the runs that a crash, a kill or a power cut left `running`: each becomes `fail` with
 * RUN_INTERRUPTED, and the certificate issued for it (still `issued`: nothing can install it now)
 * becomes `abandoned`, in one transaction with an audit event per run. Its device recorded no
 * identity, so it has no enrollment, as before; this only says so instead of leaving the run
 * open for good. Run when a line starts, before it opens a run of its own.
 */
export function closeInterruptedRuns(
  db: Database.Database,
  self: RunOwner,
  now: Date,
): InterruptedRunsReport {
  const open = db.prepare(OPEN_RUNS_SQL).all() as OpenRun[];
  const report: InterruptedRunsReport = { closed: [], otherHosts: [], olderVersion: 0 };
  const toClose: { run: OpenRun; why: string }[] = [];
  const otherHosts = new Map<string, number>();
  for (const run of open) {
    const why = whyInterrupted(run, self, now);
    if (why !== undefined) toClose.push({ run, why });
    else if (run.host === null) report.olderVersion += 1;
    else if (run.host !== self.host) {
      otherHosts.set(run.host, (otherHosts.get(run.host) ?? 0) + 1);
    }
  }
  report.otherHosts = [...otherHosts].map(([host, runs]) => ({ host, runs }));
  if (toClose.length === 0) return report;

  const sql = {
    certificates: db
      .prepare(
        `SELECT serial_number FROM certificates WHERE issued_for = ? AND status = 'issued'
        ORDER BY issued_at, serial_number`,
      )
      .pluck(),
    abandon: db.prepare(`UPDATE certificates SET status = 'abandoned'
      WHERE serial_number = ? AND status = 'issued'`),
    close: db.prepare(`UPDATE runs SET state = 'fail', error_code = 'RUN_INTERRUPTED',
      error_message = ?, error_detail = ?, finished_at = ?,
      certificate_serial = coalesce(certificate_serial, ?)
      WHERE id = ? AND state = 'running'`),
  };
  const audit = new AuditLog(db);
  const at = now.toISOString();
  db.transaction(() => {
    for (const { run, why } of toClose) {
      const serials = sql.certificates.all(issuedForRun(run.id)) as string[];
      const device =
        run.serialNumber !== null && run.model !== null
          ? { serialNumber: run.serialNumber, model: run.model }
          : undefined;
      const detail = `closed at a later start: ${why}`;
      const certificate = serials.at(-1);
      if (
        sql.close.run(runErrorText.RUN_INTERRUPTED, detail, at, certificate ?? null, run.id)
          .changes !== 1
      ) {
        continue;
      }
      for (const serial of serials) sql.abandon.run(serial);
      audit.append({
        at: now,
        actor: 'station',
        kind: 'run.interrupted',
        subject: `run:${run.id}`,
        detail: {
          runId: run.id,
          port: run.port,
          device: device ?? null,
          startedAt: run.startedAt,
          owner: run.host === null ? null : { host: run.host, pid: run.pid },
          certificatesAbandoned: serials,
        },
      });
      report.closed.push({
        runId: run.id,
        port: run.port,
        startedAt: run.startedAt,
        thisHost: run.host === null || run.host === self.host,
        ...(certificate !== undefined && { certificateSerial: certificate }),
        ...(device && { device }),
      });
    }
  }).immediate();
  return report;
}

/** The start-up log line for a report; undefined when there is nothing to say. */
export function interruptedRunsText(report: InterruptedRunsReport): string | undefined {
  const lines: string[] = [];
  const { closed } = report;
  if (closed.length > 0) {
    const runs = closed.map((run) => `run ${run.runId} on ${run.port} (${cutOffDevice(run)})`);
    const certificates = closed.filter((run) => run.certificateSerial !== undefined).length;
    lines.push(
      `${closed.length} run(s) were cut off when the station last stopped: ${runs.join(', ')}. They are now recorded as failed ` +
        `(RUN_INTERRUPTED)${certificates > 0 ? ` and the ${certificates} certificate(s) issued for them as abandoned` : ''}. ` +
        'Their devices have no recorded identity: provision them again before they ship.',
    );
  }
  for (const { host, runs } of report.otherHosts) {
    lines.push(
      `${runs} run(s) of the station on host ${host} are still open in this database; that station closes them when it starts again, or the next start here once they are a day old.`,
    );
  }
  if (report.olderVersion > 0) {
    lines.push(
      `${report.olderVersion} run(s) opened by an older station version are still open in this database; the next start closes them once they are a day old.`,
    );
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** The board a cut-off run was on, as an operator can find it on the bench. */
export function cutOffDevice(run: Pick<InterruptedRun, 'device'>): string {
  return run.device
    ? `${run.device.serialNumber}, ${run.device.model}`
    : 'the device had not answered identify';
}
