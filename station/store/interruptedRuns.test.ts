import { spawnSync } from 'node:child_process';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runErrorText } from '../line/runErrors.js';
import { issuedForRun } from '../line/runRecorder.js';
import { interruptedRunsText } from './interruptedRuns.js';
import { OPENED_BEFORE_OWNERS } from './migrations/008_run_owners.js';
import { ProvisioningStore } from './provisioningStore.js';
import type { RunOwner } from './runOwner.js';
import { thisProcess } from './runOwner.js';
import { openStationDatabase } from './stationDatabase.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');

/** The pid of a process of this host that has ended. */
function endedPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('could not start a child process');
  return child.pid;
}

let db: Database.Database;
beforeEach(() => {
  db = openStationDatabase(':memory:');
});
afterEach(() => db.close());

/** A store whose runs are owned as `owner` says, as another station process would own them. */
const storeOf = (owner: Partial<RunOwner> = {}) =>
  new ProvisioningStore(db, { now: () => NOW, owner: { ...thisProcess(), ...owner } });

/** Opens a run of `owner` with a certificate issued for it, as the line does before install. */
function openRun(owner: Partial<RunOwner>, port = '/dev/ttyUSB1', minutesAgo = 1): number {
  const runId = storeOf(owner).beginRun(port, 'line7', NOW.getTime() - minutesAgo * 60_000);
  recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`, issuedForRun(runId));
  return runId;
}

const runRow = (id: number) =>
  db
    .prepare(
      `SELECT state, error_code AS code, error_message AS message, error_detail AS detail,
      finished_at AS finishedAt, certificate_serial AS certificate FROM runs WHERE id = ?`,
    )
    .get(id) as Record<string, unknown>;
const certificateStatus = (serial: string) =>
  db.prepare(`SELECT status FROM certificates WHERE serial_number = ?`).pluck().get(serial);

describe('closing runs a crash left open', () => {
  it("ends a gone process's run as RUN_INTERRUPTED and abandons the certificate issued for it", () => {
    const pid = endedPid();
    const cut = openRun({ pid, token: 'earlier-process' }, '/dev/ttyUSB4');

    const report = storeOf().closeInterruptedRuns();

    expect(report.closed).toEqual([
      {
        runId: cut,
        port: '/dev/ttyUSB4',
        startedAt: new Date(NOW.getTime() - 60_000).toISOString(),
        certificateSerial: `c-${cut}`,
        thisHost: true,
      },
    ]);
    expect(runRow(cut)).toEqual({
      state: 'fail',
      code: 'RUN_INTERRUPTED',
      message: runErrorText.RUN_INTERRUPTED,
      detail: `closed at a later start: process ${pid} that ran it is gone`,
      finishedAt: NOW.toISOString(),
      certificate: `c-${cut}`,
    });
    expect(certificateStatus(`c-${cut}`)).toBe('abandoned');
    const audit = db
      .prepare(`SELECT kind, subject, detail FROM audit_events WHERE kind = 'run.interrupted'`)
      .all() as { kind: string; subject: string; detail: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]!.subject).toBe(`run:${cut}`);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({
      runId: cut,
      owner: { host: thisProcess().host, pid },
      certificatesAbandoned: [`c-${cut}`],
    });
    expect(db.prepare(`SELECT count(*) FROM enrollments`).pluck().get()).toBe(0);
  });

  it('closes a run of an earlier process that had this pid (a restart after a reboot)', () => {
    const cut = openRun({ token: 'before-the-reboot' });
    expect(
      storeOf()
        .closeInterruptedRuns()
        .closed.map((r) => r.runId),
    ).toEqual([cut]);
    expect(runRow(cut)).toMatchObject({ state: 'fail', code: 'RUN_INTERRUPTED' });
  });

  it('closes a run that was open when owners began to be recorded (migration 008 marks it)', () => {
    const legacy = openRun({});
    db.prepare(
      `UPDATE runs SET owner_host = NULL, owner_pid = NULL, owner_boot = NULL,
      owner_token = ?`,
    ).run(OPENED_BEFORE_OWNERS);
    expect(
      storeOf()
        .closeInterruptedRuns()
        .closed.map((r) => r.runId),
    ).toEqual([legacy]);
    expect(runRow(legacy).detail).toMatch(/open when the station began to record owners/);
  });

  it('leaves a run an older version opened after the upgrade open, until it is a day old', () => {
    const recent = openRun({});
    const old = openRun({}, '/dev/ttyUSB2', 25 * 60);
    db.prepare(
      `UPDATE runs SET owner_host = NULL, owner_pid = NULL, owner_token = NULL,
      owner_boot = NULL`,
    ).run();
    const report = storeOf().closeInterruptedRuns();
    expect(report.closed.map((r) => r.runId)).toEqual([old]);
    expect(report.olderVersion).toBe(1);
    expect(runRow(recent).state).toBe('running');
    expect(runRow(old).detail).toBe('closed at a later start: open for over a day');
    expect(interruptedRunsText(report)).toContain(
      '1 run(s) opened by an older station version are still open',
    );
  });

  it("judges this host's runs by their process alone, whatever their age (a clock set forward)", () => {
    const live = openRun(
      { pid: process.ppid, token: 'the-other-station' },
      '/dev/ttyUSB1',
      2 * 24 * 60,
    );
    expect(storeOf().closeInterruptedRuns().closed).toEqual([]);
    expect(runRow(live).state).toBe('running');
  });

  it("closes another host's run once it is a day old, and a run from before this host's restart", () => {
    const remote = openRun({ host: 'line-7-station-b', token: 'remote' }, '/dev/ttyUSB1', 25 * 60);
    // Its pid now belongs to a live process: only the boot id tells that it is not the same one.
    const beforeReboot = openRun({ pid: process.ppid, token: 'before', boot: 'earlier-boot' });
    const report = new ProvisioningStore(db, {
      now: () => NOW,
      owner: { ...thisProcess(), boot: 'this-boot' },
    }).closeInterruptedRuns();
    expect(report.closed.map((r) => r.runId)).toEqual([remote, beforeReboot]);
    expect(runRow(beforeReboot).detail).toBe(
      'closed at a later start: the host restarted since it ran',
    );
  });

  it("leaves this process's runs, a live process's runs and another host's runs open", () => {
    const own = openRun({});
    const live = openRun({ pid: process.ppid, token: 'the-other-station' });
    const remote = openRun({ host: 'line-7-station-b', pid: endedPid(), token: 'remote' });
    const remote2 = openRun({ host: 'line-7-station-b', pid: 12, token: 'remote-2' });

    const report = storeOf().closeInterruptedRuns();

    expect(report).toEqual({
      closed: [],
      otherHosts: [{ host: 'line-7-station-b', runs: 2 }],
      olderVersion: 0,
    });
    for (const id of [own, live, remote, remote2]) {
      expect(runRow(id).state).toBe('running');
      expect(certificateStatus(`c-${id}`)).toBe('issued');
    }
    // The live run still commits.
    storeOf({ pid: process.ppid, token: 'the-other-station' }).commitPass(
      passedRun(live, 'SN-LIVE', { registrationId: `reg-${live}` }),
    );
    expect(runRow(live).state).toBe('pass');
  });

  it('a run it closed cannot commit later, and settled certificates stay as they are', () => {
    const pid = endedPid();
    const passed = openRun({ pid, token: 'gone' });
    storeOf({ pid, token: 'gone' }).commitPass(
      passedRun(passed, 'SN-OK', { registrationId: `reg-${passed}` }),
    );
    const cut = openRun({ pid, token: 'gone' });

    expect(
      storeOf()
        .closeInterruptedRuns()
        .closed.map((r) => r.runId),
    ).toEqual([cut]);
    expect(certificateStatus(`c-${passed}`)).toBe('committed');
    expect(() =>
      storeOf({ pid, token: 'gone' }).commitPass(
        passedRun(cut, 'SN-CUT', { registrationId: `reg-${cut}` }),
      ),
    ).toThrow(expect.objectContaining({ code: 'STORE_RUN_NOT_RUNNING' }));
    expect(db.prepare(`SELECT count(*) FROM enrollments`).pluck().get()).toBe(1);
  });

  it('names the board a cut-off run had identified, and records the device as seen', () => {
    const pid = endedPid();
    const device = {
      serialNumber: 'SN-0042',
      model: 'sensor-a',
      hardwareRevision: 'B',
      firmwareVersion: '1.4.0',
    };
    const identified = storeOf({ pid, token: 'earlier' }).beginRun(
      '/dev/ttyUSB2',
      'line7',
      NOW.getTime() - 60_000,
      'auto',
      device,
    );
    const silent = openRun({ pid, token: 'earlier' }, '/dev/ttyUSB3');

    const report = storeOf().closeInterruptedRuns();

    expect(report.closed.map((run) => [run.runId, run.device])).toEqual([
      [identified, { serialNumber: 'SN-0042', model: 'sensor-a' }],
      [silent, undefined],
    ]);
    expect(interruptedRunsText(report)).toContain(
      `run ${identified} on /dev/ttyUSB2 (SN-0042, sensor-a), run ${silent} on /dev/ttyUSB3 (the device had not answered identify)`,
    );
    expect(
      db
        .prepare(
          `SELECT serial_number AS serialNumber, model, hardware_revision AS hardwareRevision,
          firmware_version AS firmwareVersion FROM devices`,
        )
        .all(),
    ).toEqual([device]);
    const audit = db
      .prepare(`SELECT detail FROM audit_events WHERE kind = 'run.interrupted' ORDER BY id`)
      .pluck()
      .all() as string[];
    expect(audit.map((detail) => (JSON.parse(detail) as { device: unknown }).device)).toEqual([
      { serialNumber: 'SN-0042', model: 'sensor-a' },
      null,
    ]);
  });

  it('says what it closed and what it left to another host', () => {
    expect(interruptedRunsText({ closed: [], otherHosts: [], olderVersion: 0 })).toBeUndefined();
    const text = interruptedRunsText({
      closed: [
        {
          runId: 7,
          port: '/dev/ttyUSB1',
          startedAt: NOW.toISOString(),
          certificateSerial: 'c7',
          thisHost: true,
          device: { serialNumber: 'SN-7', model: 'sensor-a' },
        },
        { runId: 9, port: '/dev/ttyUSB1', startedAt: NOW.toISOString(), thisHost: true },
      ],
      otherHosts: [{ host: 'station-b', runs: 3 }],
      olderVersion: 0,
    });
    expect(text).toContain('2 run(s) were cut off when the station last stopped');
    expect(text).toContain(
      'stopped: run 7 on /dev/ttyUSB1 (SN-7, sensor-a), run 9 on /dev/ttyUSB1 (the device had not answered identify).',
    );
    expect(text).toContain('RUN_INTERRUPTED');
    expect(text).toContain('the 1 certificate(s) issued for them as abandoned');
    expect(text).toContain('provision them again');
    expect(text).toContain('3 run(s) of the station on host station-b are still open');
  });
});
