import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStationDatabase } from './stationDatabase.js';

const LOOP = fileURLToPath(new URL('./testing/commitLoop.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ls-store-kill-'));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LoopResult {
  committed: number[];
  crashing?: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

type Marker = 'COMMITTING' | 'COMMITTED' | 'FAILING';

/**
 * Runs the commit loop on `dbPath`. With `kill`, SIGKILLs it as soon as it has printed that
 * marker `after` times. The loop goes on meanwhile, so the kill lands a little later: aimed at
 * COMMITTING it mostly hits commitPass, at FAILING recordFailure, at COMMITTED the next run's
 * first writes.
 */
function runLoop(
  dbPath: string,
  round: number,
  opts: { kill?: { on: Marker; after: number }; crashInCommit?: number },
): Promise<LoopResult> {
  const args = [LOOP, dbPath, String(round)];
  if (opts.crashInCommit !== undefined) args.push('--crash-in-commit', String(opts.crashInCommit));
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const result: LoopResult = { committed: [], signal: null, stderr: '' };
  child.stderr!.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  const seen = new Map<string, number>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [word = '', id] = line.split(' ');
    if (word === 'CRASHING') result.crashing = Number(id);
    if (word === 'COMMITTED') result.committed.push(Number(id));
    seen.set(word, (seen.get(word) ?? 0) + 1);
    if (opts.kill?.on === word && seen.get(word) === opts.kill.after) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ ...result, signal }));
  });
}

/** Everything a crash must never leave behind, as rows that break a rule. */
function violations(dbPath: string) {
  const db = openStationDatabase(dbPath);
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      foreignKeys: db.pragma('foreign_key_check'),
      passWithoutEnrollment: all(`SELECT id FROM runs WHERE state = 'pass'
        AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.run_id = runs.id)`),
      enrollmentWithoutPass: all(`SELECT e.id FROM enrollments e JOIN runs r ON r.id = e.run_id
        WHERE r.state != 'pass'`),
      passWithoutCommittedCertificate: all(`SELECT r.id FROM runs r
        LEFT JOIN certificates c ON c.serial_number = r.certificate_serial
        WHERE r.state = 'pass' AND c.status IS NOT 'committed'`),
      committedWithoutPass: all(`SELECT serial_number FROM certificates c WHERE status = 'committed'
        AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.certificate_serial = c.serial_number
          AND r.state = 'pass')`),
      failedNotAbandoned: all(`SELECT r.id FROM runs r JOIN certificates c
        ON c.serial_number = r.certificate_serial WHERE r.state = 'fail' AND c.status != 'abandoned'`),
      deviceWithoutRun: all(`SELECT id FROM devices
        WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.device_id = devices.id)`),
      supersededUnlinked: all(`SELECT id FROM enrollments
        WHERE status = 'superseded' AND superseded_by IS NULL`),
      passWithoutAudit: all(`SELECT id FROM runs WHERE state = 'pass' AND NOT EXISTS (SELECT 1
        FROM audit_events a WHERE a.kind = 'device.provisioned'
        AND json_extract(a.detail, '$.runId') = runs.id)`),
    };
  } finally {
    db.close();
  }
}

const clean = {
  integrity: 'ok',
  foreignKeys: [],
  passWithoutEnrollment: [],
  enrollmentWithoutPass: [],
  passWithoutCommittedCertificate: [],
  committedWithoutPass: [],
  failedNotAbandoned: [],
  deviceWithoutRun: [],
  supersededUnlinked: [],
  passWithoutAudit: [],
};

function committedState(dbPath: string, runIds: number[]) {
  const db = openStationDatabase(dbPath);
  try {
    const get =
      db.prepare(`SELECT r.state, e.status IS NOT NULL AS enrolled, c.status AS certificate
      FROM runs r LEFT JOIN enrollments e ON e.run_id = r.id
      LEFT JOIN certificates c ON c.serial_number = r.certificate_serial WHERE r.id = ?`);
    return runIds.map((id) => ({ id, ...(get.get(id) as object) }));
  } finally {
    db.close();
  }
}

describe('ProvisioningStore durability under SIGKILL', () => {
  it('keeps every printed PASS and never a half-done one, over repeated kills', async () => {
    const dbPath = join(dir, 'kill-loop.sqlite');
    const printed: number[] = [];
    const kills: { on: Marker; after: number }[] = [
      { on: 'COMMITTING', after: 40 },
      { on: 'FAILING', after: 6 },
      { on: 'COMMITTING', after: 23 },
      { on: 'COMMITTED', after: 31 },
      { on: 'COMMITTING', after: 57 },
      { on: 'FAILING', after: 3 },
    ];
    for (const [round, kill] of kills.entries()) {
      const result = await runLoop(dbPath, round, { kill });
      expect(result.signal, result.stderr).toBe('SIGKILL');
      printed.push(...result.committed);
      expect(violations(dbPath)).toEqual(clean);
    }
    expect(printed.length).toBeGreaterThanOrEqual(39 + 30 + 22 + 31 + 56 + 12);
    expect(committedState(dbPath, printed)).toEqual(
      printed.map((id) => ({ id, state: 'pass', enrolled: 1, certificate: 'committed' })),
    );
  });

  it('rolls back a commit killed inside its transaction', async () => {
    const dbPath = join(dir, 'crash-in-commit.sqlite');
    const result = await runLoop(dbPath, 0, { crashInCommit: 10 });
    expect(result.signal, result.stderr).toBe('SIGKILL');
    expect(result.crashing).toBeDefined();
    expect(result.committed.length).toBeGreaterThan(0);
    expect(violations(dbPath)).toEqual(clean);
    expect(committedState(dbPath, [result.crashing!])).toEqual([
      { id: result.crashing, state: 'running', enrolled: 0, certificate: null },
    ]);
    const db = openStationDatabase(dbPath);
    try {
      // The certificate was issued (its own commit) and must still wait for a run to settle it.
      const status = db.prepare(`SELECT status FROM certificates WHERE serial_number = ?`).pluck();
      expect(status.get(`c-${result.crashing}`)).toBe('issued');
    } finally {
      db.close();
    }
    expect(committedState(dbPath, result.committed)).toEqual(
      result.committed.map((id) => ({ id, state: 'pass', enrolled: 1, certificate: 'committed' })),
    );
  });
});
