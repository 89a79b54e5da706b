import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issuedForRun } from '../line/runRecorder.js';
import { interruptedRunsText } from './interruptedRuns.js';
import { ProvisioningStore } from './provisioningStore.js';
import { processStartTicks, thisProcess, type RunOwner } from './runOwner.js';
import { openStationDatabase } from './stationDatabase.js';
import { recordIssuedCertificate } from './testing/provisioningFixtures.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const DAY_MS = 24 * 3_600_000;

/**
 * A process of this host that runs and is not this one: this test's parent stands in for the
 * unrelated process that took over a killed station's pid.
 */
const LIVE_PID = process.ppid;

let db: Database.Database;
beforeEach(() => {
  db = openStationDatabase(':memory:');
});
afterEach(() => db.close());

const storeOf = (owner: Partial<RunOwner> = {}) =>
  new ProvisioningStore(db, { now: () => NOW, owner: { ...thisProcess(), ...owner } });

/** Opens a run of `owner`, `ageMs` ago, with a certificate issued for it, as the line does. */
function openRun(owner: Partial<RunOwner>, ageMs: number, port = '/dev/ttyUSB1'): number {
  const runId = storeOf(owner).beginRun(port, 'line7', NOW.getTime() - ageMs);
  recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`, issuedForRun(runId));
  return runId;
}

const ownerStart = (runId: number) =>
  db.prepare(`SELECT owner_start FROM runs WHERE id = ?`).pluck().get(runId);
const setOwner = (runId: number, boot: string | null, start: string | null) =>
  db
    .prepare(`UPDATE runs SET owner_boot = ?, owner_start = ? WHERE id = ?`)
    .run(boot, start, runId);
const runRow = (id: number) =>
  db
    .prepare(`SELECT state, error_code AS code, error_detail AS detail FROM runs WHERE id = ?`)
    .get(id);
const certificateStatus = (serial: string) =>
  db.prepare(`SELECT status FROM certificates WHERE serial_number = ?`).pluck().get(serial);

// Process starts are read from /proc: elsewhere none is recorded (the last test stands for that).
const liveStart = processStartTicks(LIVE_PID);
const linux = liveStart !== undefined && processStartTicks(process.pid) !== undefined;

describe('closing runs a crash left open: a pid taken over by another process', () => {
  it.skipIf(!linux)('records when the process that opens a run started', () => {
    expect(ownerStart(openRun({}, 60_000))).toBe(processStartTicks(process.pid));
    expect(ownerStart(openRun({ pid: LIVE_PID, token: 'other' }, 60_000))).toBe(liveStart);
  });

  it.skipIf(!linux)(
    'closes a run of this host and boot whose pid a process of another start now has',
    () => {
      // The station was killed three days ago; its pid went to an unrelated process since.
      const cut = openRun({ pid: LIVE_PID, token: 'killed-station' }, 3 * DAY_MS);
      setOwner(cut, thisProcess().boot ?? null, `${liveStart!}0`);

      const report = storeOf().closeInterruptedRuns();

      expect(report.closed.map((run) => [run.runId, run.thisHost])).toEqual([[cut, true]]);
      expect(runRow(cut)).toEqual({
        state: 'fail',
        code: 'RUN_INTERRUPTED',
        detail: `closed at a later start: process ${LIVE_PID} that ran it is gone; another took its pid`,
      });
      expect(certificateStatus(`c-${cut}`)).toBe('abandoned');
      expect(interruptedRunsText(report)).toContain('provision them again');
    },
  );

  it.skipIf(!linux)(
    'leaves a run of a live process open when that process started when the run recorded',
    () => {
      const live = openRun({ pid: LIVE_PID, token: 'the-other-station' }, 2 * DAY_MS);
      setOwner(live, thisProcess().boot ?? null, liveStart!);
      expect(storeOf().closeInterruptedRuns().closed).toEqual([]);
      expect(runRow(live)).toMatchObject({ state: 'running', code: null });
      expect(certificateStatus(`c-${live}`)).toBe('issued');
      // Without a boot id, its start alone keeps it open, whatever its age.
      setOwner(live, null, liveStart!);
      expect(storeOf({ boot: undefined }).closeInterruptedRuns().closed).toEqual([]);
      expect(runRow(live)).toMatchObject({ state: 'running' });
    },
  );

  it('closes a run with neither a boot id nor a start (no /proc) once it is a day old', () => {
    // As on Windows after a power cut: the pid alone, which a live process now has.
    const noProc = { boot: undefined };
    const old = openRun({ ...noProc, pid: LIVE_PID, token: 'before-the-power-cut' }, 2 * DAY_MS);
    const recent = openRun({ ...noProc, pid: LIVE_PID, token: 'the-other-station' }, 60_000);
    for (const id of [old, recent]) setOwner(id, null, null);

    const report = storeOf(noProc).closeInterruptedRuns();

    expect(report.closed.map((run) => [run.runId, run.thisHost])).toEqual([[old, true]]);
    expect(runRow(old)).toEqual({
      state: 'fail',
      code: 'RUN_INTERRUPTED',
      detail: 'closed at a later start: open for over a day',
    });
    expect(certificateStatus(`c-${old}`)).toBe('abandoned');
    expect(runRow(recent)).toMatchObject({ state: 'running' });
    expect(certificateStatus(`c-${recent}`)).toBe('issued');
  });
});
