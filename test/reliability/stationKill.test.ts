import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';

const SCRIPT = join(process.cwd(), 'test', 'reliability', 'stationUnderKill.ts');

describe('the station killed mid-batch (SIGKILL)', () => {
  it('keeps every device that showed PASS, with its enrollment; nothing half-done', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ls-kill-'));
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, dataDir, '12'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_, signal) => resolve(signal)),
    );
    const passed: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith('PASS ')) passed.push(line.slice(5));
          // Kill after the fourth PASS: later runs are in flight or not yet started.
          if (passed.length === 4) {
            child.kill('SIGKILL');
            resolve();
          }
        }
      });
      void exited.then(() => reject(new Error(`the station exited before the kill:\n${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');

    const db = openStationDatabase(join(dataDir, 'station.db'));
    const enrolled = db
      .prepare(
        `SELECT e.registration_id AS id, e.status, r.state, c.status AS certificate
         FROM enrollments e JOIN runs r ON r.id = e.run_id
         LEFT JOIN certificates c ON c.serial_number = r.certificate_serial`,
      )
      .all() as { id: string; status: string; state: string; certificate: string | null }[];
    const enrolledIds = new Set(enrolled.map((e) => e.id));
    // Every device that showed PASS is in the store with its enrollment…
    for (const id of passed) expect(enrolledIds.has(id), `${id} showed PASS`).toBe(true);
    // …and every enrollment belongs to a finished, passed run whose certificate is committed.
    for (const e of enrolled)
      expect(e).toMatchObject({ status: 'pending', state: 'pass', certificate: 'committed' });
    // Runs cut off by the kill stay open, with no enrollment and no committed certificate.
    const cutOff = db
      .prepare(
        `SELECT r.id, c.status AS certificate, (SELECT count(*) FROM enrollments e WHERE e.run_id = r.id) AS enrollments
         FROM runs r LEFT JOIN certificates c ON c.serial_number = r.certificate_serial WHERE r.state = 'running'`,
      )
      .all() as { certificate: string | null; enrollments: number }[];
    // The kill really landed mid-batch: some runs were in flight.
    expect(cutOff.length).toBeGreaterThan(0);
    for (const run of cutOff) {
      expect(run.enrollments).toBe(0);
      expect(run.certificate).not.toBe('committed');
    }
    expect(enrolled.length).toBeLessThan(12);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    // The next start closes what the kill cut off: the runs fail as RUN_INTERRUPTED, the
    // certificates issued for them are abandoned, and every PASS stays as it was.
    const report = new ProvisioningStore(db).closeInterruptedRuns();
    expect(report.closed).toHaveLength(cutOff.length);
    expect(db.prepare(`SELECT count(*) FROM runs WHERE state = 'running'`).pluck().get()).toBe(0);
    const closed = db
      .prepare(
        `SELECT r.error_code AS code, c.status AS certificate FROM runs r
        LEFT JOIN certificates c ON c.serial_number = r.certificate_serial
        WHERE r.id IN (${report.closed.map((run) => run.runId).join(',')})`,
      )
      .all() as { code: string; certificate: string | null }[];
    for (const run of closed) {
      expect(run.code).toBe('RUN_INTERRUPTED');
      expect(run.certificate ?? 'abandoned').toBe('abandoned');
    }
    // The runs in flight had identified their boards (identify is a run's first few ms): the
    // report names them. One cut off after its certificate was issued names the board the
    // certificate was issued to (CN = registration ID).
    expect(report.closed.some((run) => run.device !== undefined)).toBe(true);
    const certificateFor = db
      .prepare(`SELECT registration_id FROM certificates WHERE serial_number = ?`)
      .pluck();
    for (const run of report.closed.filter((r) => r.certificateSerial !== undefined)) {
      expect(run.device, `run ${run.runId}`).toBeDefined();
      const registrationId = certificateFor.get(run.certificateSerial) as string;
      expect(registrationId.toLowerCase()).toContain(run.device!.serialNumber.toLowerCase());
    }
    // No certificate is left `issued`: each was installed and committed, or is abandoned.
    expect(
      db.prepare(`SELECT count(*) FROM certificates WHERE status = 'issued'`).pluck().get(),
    ).toBe(0);
    const after = db
      .prepare(`SELECT e.registration_id AS id, e.status FROM enrollments e`)
      .all() as { id: string; status: string }[];
    expect(after.map((e) => e.id).sort()).toEqual([...enrolledIds].sort());
    db.close();
  });
});
