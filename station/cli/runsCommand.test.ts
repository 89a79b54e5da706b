import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { thisProcess } from '../store/runOwner.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import { runs } from './runsCommand.js';
import { sinceFlag, zonedLocalTime } from './timeFlags.js';

const NOW = new Date('2026-12-05T18:00:00.000Z');
const HOUR = 3_600_000;

let root: string;
let output: string[];
let errors: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runs-command-'));
  output = [];
  errors = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

/**
 * A station that ran, over the last 30 hours: a PASS 30 h ago, then (within the last 24 h) a
 * PASS, three WIRE_TIMEOUTs on ttyUSB2, a verify failure, a cancel, and a run still going.
 */
function shift(): { pass: number; timeouts: number[]; verify: number; open: number } {
  const db = openStationDatabase(join(root, 'station.db'));
  const store = new ProvisioningStore(db, { now: () => NOW });
  const at = (hoursAgo: number) => NOW.getTime() - hoursAgo * HOUR;
  const passAt = (serial: string, hoursAgo: number): number => {
    const runId = store.beginRun('/dev/ttyUSB1', 'line7', at(hoursAgo));
    recordIssuedCertificate(db, `c-${runId}`, `reg-${serial.toLowerCase()}`);
    store.commitPass({
      ...passedRun(runId, serial),
      startedAt: at(hoursAgo),
      finishedAt: at(hoursAgo) + 1_500,
    });
    return runId;
  };
  const failAt = (code: string, message: string, hoursAgo: number, port = '/dev/ttyUSB2') => {
    const runId = store.beginRun(port, 'line7', at(hoursAgo));
    store.recordFailure(runId, {
      state: code === 'RUN_CANCELLED' ? 'cancelled' : 'fail',
      error: { code, message, detail: `detail of ${runId}` },
      device: { serialNumber: `SN-${runId}`, model: 'LS-100' },
      steps: [{ step: 'identify', startedAt: at(hoursAgo), endedAt: at(hoursAgo) + 40 }],
      finishedAt: at(hoursAgo) + 5_000,
    });
    return runId;
  };
  passAt('SN-OLD', 30);
  const pass = passAt('SN-NEW', 20);
  const timeouts = [10, 9, 8].map((h) => failAt('WIRE_TIMEOUT', 'The device did not answer.', h));
  const verify = failAt(
    'RUN_VERIFY_CHALLENGE_FAILED',
    'Could not prove its key.',
    7,
    '/dev/ttyUSB1',
  );
  failAt('RUN_CANCELLED', 'The run was cancelled.', 6);
  const open = store.beginRun('/dev/ttyUSB3', 'line7', at(1));
  db.close();
  return { pass, timeouts, verify, open };
}

const cli = (...args: string[]) => runs([...args, '--data-dir', root], () => NOW);

describe('station runs', () => {
  it('lists the latest runs, newest first, with state, port, device and error', async () => {
    const { open, verify } = shift();
    expect(await cli()).toBe(0);
    expect(output).toHaveLength(8);
    expect(output[0]).toMatch(new RegExp(`^\\s+${open}  .+  running\\s+/dev/ttyUSB3  -  -$`));
    expect(output[2]).toContain(
      `${verify}  ${zonedLocalTime(new Date(NOW.getTime() - 7 * HOUR).toISOString())}`,
    );
    expect(output[2]).toContain(
      `fail       /dev/ttyUSB1  SN-${verify}  -  [RUN_VERIFY_CHALLENGE_FAILED] Could not prove its key.`,
    );
    expect(output.at(-1)).toMatch(/ {2}pass {7}\/dev\/ttyUSB1 {2}SN-OLD {2}reg-sn-old$/);
  });

  it('narrows by state, port, serial number and start time, and limits', async () => {
    const { timeouts, verify } = shift();
    const ids = () => output.map((line) => Number(line.trim().split(/\s+/)[0]));
    await cli('list', '--state', 'fail', '--port', '/dev/ttyUSB2');
    expect(ids()).toEqual([...timeouts].reverse());
    output = [];
    await cli('--serial', `SN-${verify}`);
    expect(ids()).toEqual([verify]);
    output = [];
    await cli('--since', '8h', '--limit', '2');
    expect(ids()).toHaveLength(2);
    output = [];
    await cli('--since', '2h', '--state', 'pass');
    expect(output).toEqual(['No run matches.']);
  });

  it('shows one run whole, and says when there is none', async () => {
    const { timeouts } = shift();
    const id = timeouts[0]!;
    expect(await cli('show', String(id))).toBe(0);
    expect(output[0]).toBe(`Run ${id}: fail`);
    expect(output).toContain(`  device        SN-${id} (LS-100)`);
    expect(output).toContain('  error         [WIRE_TIMEOUT] The device did not answer.');
    expect(output).toContain(`  detail        detail of ${id}`);
    expect(output.some((line) => /finished .+ \(5\.0 s\)$/.test(line))).toBe(true);
    expect(output.at(-1)).toBe('    identify        40 ms');
    expect(await cli('show', '999')).toBe(1);
    expect(errors.join('\n')).toContain(`there is no run 999 in ${root}`);
  });

  it("shows a TPM run's endorsement key and the vendor chain its certificate was checked against", async () => {
    const db = openStationDatabase(join(root, 'station.db'));
    const store = new ProvisioningStore(db, { now: () => NOW });
    const runId = store.beginRun('/dev/ttyUSB1', 'gateway', NOW.getTime() - 2_000);
    const { certificateSerial: _none, ...record } = passedRun(runId, 'SN-TPM', {
      attestation: 'tpm',
      enrollment: {
        registrationId: 'reg-sn-tpm',
        attestation: { type: 'tpm', tpm: { endorsementKey: 'AToAAQAL' } },
      },
      evidence: {
        endorsement: {
          ekSha256: createHash('sha256').update(Buffer.from('AToAAQAL', 'base64')).digest('hex'),
          ekType: 'rsa',
          certificate: {
            chain: ['EK certificate issued by CN=Maker CA', 'CN=Maker CA', 'CN=Maker Root'],
            vendorRoot: 'CN=Maker Root',
            certificateSha256: 'cd'.repeat(32),
            tpm: { manufacturer: 'id:49465800', model: 'SLB9670', version: 'id:00070055' },
          },
          notes: ['CN=Maker CA expired on 2025-10-20, after it issued this certificate'],
        },
      },
    });
    store.commitPass(record);
    db.close();
    expect(await cli('show', String(runId))).toBe(0);
    expect(output).toContain(
      `  TPM EK        RSA, SHA-256 ${createHash('sha256').update(Buffer.from('AToAAQAL', 'base64')).digest('hex')}`,
    );
    expect(output).toContain(`  EK cert       SHA-256 ${'cd'.repeat(32)}`);
    expect(output).toContain(
      '  TPM           maker id:49465800, model SLB9670, version id:00070055',
    );
    expect(output).toContain(
      '  EK chain      EK certificate issued by CN=Maker CA → CN=Maker CA → CN=Maker Root',
    );
    expect(output).toContain(
      '  EK note       CN=Maker CA expired on 2025-10-20, after it issued this certificate',
    );
    output.length = 0;
    expect(await cli('show', String(runId), '--json')).toBe(0);
    const shown = JSON.parse(output.join('\n')) as { evidence: unknown };
    expect(shown.evidence).toEqual(record.evidence);
  });

  it('counts the last 24 hours by state and by error code, most frequent first', async () => {
    const { timeouts } = shift();
    expect(await cli('stats')).toBe(0);
    expect(output[0]).toMatch(/^Runs started since .+ \(--since 24h\): 7$/);
    expect(output.slice(1, 5)).toEqual([
      '  running           1',
      '  pass              1',
      '  fail              4',
      '  cancelled         1',
    ]);
    expect(output[6]).toMatch(
      new RegExp(`^  WIRE_TIMEOUT\\s+3  run ${timeouts[2]}: The device did not answer\\.$`),
    );
    expect(output.slice(7).map((line) => line.trim().split(/\s+/)[0])).toEqual([
      'RUN_CANCELLED',
      'RUN_VERIFY_CHALLENGE_FAILED',
    ]);
    output = [];
    await cli('stats', '--port', '/dev/ttyUSB2');
    expect(output[0]).toMatch(/^Runs started on \/dev\/ttyUSB2 since .+ \(--since 24h\): 4$/);
    expect(output.slice(1, 5).map((line) => line.trim().split(/\s+/))).toEqual([
      ['running', '0'],
      ['pass', '0'],
      ['fail', '3'],
      ['cancelled', '1'],
    ]);
    output = [];
    await cli('stats', '--since', '31h', '--json');
    expect(JSON.parse(output.join('\n'))).toMatchObject({
      since: new Date(NOW.getTime() - 31 * HOUR).toISOString(),
      byState: { pass: 2, fail: 4, cancelled: 1, running: 1 },
    });
  });

  it('refuses bad flags before it opens anything, and a folder with no station', async () => {
    shift();
    await expect(cli('--state', 'passed')).rejects.toMatchObject({ code: 'CLI_USAGE' });
    await expect(cli('--since', 'yesterday')).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringContaining('--since must be a span'),
    });
    await expect(cli('show')).rejects.toMatchObject({ code: 'CLI_USAGE' });
    // A filter a subcommand would not apply is refused, not ignored.
    await expect(cli('stats', '--state', 'pass')).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: 'runs stats takes no --state',
    });
    await expect(cli('show', '3', '--port', '/dev/ttyUSB2')).rejects.toMatchObject({
      message: 'runs show takes no --port',
    });
    await expect(cli('list', 'fail')).rejects.toMatchObject({ code: 'CLI_USAGE' });
    expect(await cli('purge')).toBe(2);
    await expect(runs(['--data-dir', join(root, 'typo')])).rejects.toMatchObject({
      code: 'STATION_NOT_CONFIGURED',
    });
  });
});

describe('--since', () => {
  it('takes a span back from now, or a local date or date and time', () => {
    expect(sinceFlag('30m', NOW).getTime()).toBe(NOW.getTime() - 30 * 60_000);
    expect(sinceFlag('2d', NOW).getTime()).toBe(NOW.getTime() - 48 * HOUR);
    expect(sinceFlag('2026-12-05', NOW)).toEqual(new Date(2026, 11, 5, 0, 0));
    expect(sinceFlag('2026-12-05T06:30', NOW)).toEqual(new Date(2026, 11, 5, 6, 30));
    // A day whose local midnight a daylight-saving change skips is still a day to ask from.
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'America/Santiago';
      expect(sinceFlag('2026-09-06', NOW).getDate()).toBe(6);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    for (const bad of [
      '8',
      '8 h',
      '-2h',
      '2026-13-05',
      '2026-12-05T25:00',
      '2026-02-31',
      '2026-12-05T24:00',
      'today',
    ]) {
      expect(() => sinceFlag(bad, NOW), bad).toThrow(/--since must be/);
    }
  });
});

describe('station runs show, of a run a crash cut off', () => {
  it('says when it was closed, and gives it no duration', async () => {
    const db = openStationDatabase(join(root, 'station.db'));
    const gone = new ProvisioningStore(db, {
      now: () => NOW,
      owner: { host: thisProcess().host, pid: thisProcess().pid, token: 'before-a-restart' },
    });
    const id = gone.beginRun('/dev/ttyUSB1', 'line7', NOW.getTime() - 48 * HOUR);
    new ProvisioningStore(db, { now: () => NOW }).closeInterruptedRuns();
    db.close();
    expect(await cli('show', String(id))).toBe(0);
    expect(output).toContain(
      `  closed        ${zonedLocalTime(NOW.toISOString())}, at a later start`,
    );
    expect(output.some((line) => line.startsWith('  finished'))).toBe(false);
  });
});

describe('station runs, by the DPS settings each run wrote', () => {
  const SCOPE = '0ne00AB12CD';
  const written = {
    idScope: SCOPE,
    globalEndpoint: 'global.azure-devices-provisioning.net',
    profileFingerprint: '0123456789abcdef',
  };

  /** Two runs that wrote SCOPE, one another scope, and one from before runs recorded it. */
  function scopedShift(): { sensor: number[]; other: number; before: number } {
    const db = openStationDatabase(join(root, 'station.db'));
    const store = new ProvisioningStore(db, { now: () => NOW });
    const before = store.beginRun('/dev/ttyUSB0', 'line7', NOW.getTime() - 3 * HOUR);
    const open = (dps: typeof written, hoursAgo: number) =>
      store.beginRun(
        '/dev/ttyUSB1',
        'Sensor v2',
        NOW.getTime() - hoursAgo * HOUR,
        'auto',
        undefined,
        {
          dps,
        },
      );
    const first = open(written, 2);
    recordIssuedCertificate(db, `c-${first}`, 'reg-sn-1');
    store.commitPass(passedRun(first, 'SN-1', { profile: 'Sensor v2' }));
    const other = open({ ...written, idScope: '0ne00EF3456' }, 1.5);
    const second = open(written, 1);
    db.close();
    return { sensor: [first, second], other, before };
  }

  it('shows the ID scope, endpoint and profile fingerprint of a run, and "not recorded" before', async () => {
    const { sensor, before } = scopedShift();
    expect(await cli('show', String(sensor[0]))).toBe(0);
    expect(output).toContain('  profile       Sensor v2, fingerprint 0123456789abcdef');
    expect(output).toContain(`  ID scope      ${SCOPE}`);
    expect(output).toContain('  DPS endpoint  global.azure-devices-provisioning.net');
    output = [];
    expect(await cli('show', String(sensor[0]), '--json')).toBe(0);
    expect(JSON.parse(output.join('\n'))).toMatchObject({ dps: written });
    output = [];
    expect(await cli('show', String(before))).toBe(0);
    const notRecorded = 'not recorded (a run from before the station kept it)';
    expect(output).toContain(`  profile       line7, fingerprint ${notRecorded}`);
    expect(output).toContain(`  ID scope      ${notRecorded}`);
    expect(output).toContain(`  DPS endpoint  ${notRecorded}`);
  });

  it('lists the runs that wrote one ID scope, typed in either case; refuses a malformed one', async () => {
    const { sensor, other } = scopedShift();
    const ids = () => output.map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(await cli('list', '--id-scope', SCOPE)).toBe(0);
    expect(ids()).toEqual([...sensor].reverse());
    output = [];
    await cli('--id-scope', '0ne00ab12cd', '--state', 'pass');
    expect(ids()).toEqual([sensor[0]]);
    output = [];
    await cli('--id-scope', '0ne00EF3456', '--json');
    expect((JSON.parse(output.join('\n')) as { id: number }[]).map((run) => run.id)).toEqual([
      other,
    ]);
    output = [];
    await cli('--id-scope', '0ne00000000');
    expect(output).toEqual(['No run matches.']);
    await expect(cli('--id-scope', '0ne00AB12C')).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringContaining('--id-scope expected 0ne followed by 8 hex digits'),
    });
    await expect(cli('stats', '--id-scope', SCOPE)).rejects.toMatchObject({
      message: 'runs stats takes no --id-scope',
    });
  });
});
