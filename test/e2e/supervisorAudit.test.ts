/**
 * What supervisors' commands leave in the audit trail, through the real command line: a line
 * saved and forgotten, an outbox export, a wrong CA passphrase typed at a command, and the times
 * `station audit` and `station runs` print, in a zone that is not UTC.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import {
  passedRun,
  recordIssuedCertificate,
} from '../../station/store/testing/provisioningFixtures.js';
import { opensslCsr } from './opensslTools.js';
import { auditTrail, stationCli } from './stationCli.js';

const PASSPHRASE = 'supervisor passphrase 9';
const WRONG = 'not the passphrase, typed at a command';
const ME = userInfo().username;

let root: string;
let dataDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'supervisor-audit-'));
  dataDir = join(root, 'data');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A one-product profiles file beside the data folder. */
function profilesFile(): string {
  const file = join(root, 'profiles.json');
  const profile = {
    name: 'Sensor v2',
    models: ['LS-DEMO-1'],
    dps: { idScope: '0ne0000AB12' },
    attestation: { mode: 'x509-device-key' },
  };
  writeFileSync(file, JSON.stringify({ profiles: [profile] }));
  return file;
}

const withPassphrase = (passphrase: string) => ({ LINE_STATION_CA_PASSPHRASE: passphrase });

describe('station line save and line forget', () => {
  it('record who saved which line and who forgot it, making the database for the first', async () => {
    // All `line save` needs of the CA is its folder: no line and no CA command ran here yet.
    mkdirSync(join(dataDir, 'ca'), { recursive: true });
    const profiles = profilesFile();
    const port = 'tcp://10.0.0.5:4001';
    const saveArgs = ['line', 'save', '--profiles', profiles, '--device', port, '--manual'];
    const saved = await stationCli(dataDir, [...saveArgs, '--by', 'ann']);
    expect(saved.code, saved.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'station.db'))).toBe(true);
    const file = join(dataDir, 'line.json');
    const [event] = await auditTrail(dataDir, 'line.saved');
    expect(event).toMatchObject({
      actor: 'supervisor:ann',
      subject: 'line',
      detail: {
        product: 'Sensor v2',
        profilesFile: profiles,
        profileFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        ports: [port],
        discover: false,
        baud: 115200,
        mode: 'manual',
        file,
        replaced: false,
      },
    });

    const forgotten = await stationCli(dataDir, ['line', 'forget']);
    expect(forgotten.code, forgotten.stderr).toBe(0);
    expect(await auditTrail(dataDir, 'line.forgotten')).toEqual([
      expect.objectContaining({
        actor: `supervisor:${ME}`,
        subject: 'line',
        detail: {
          profilesFile: profiles,
          ports: [port],
          discover: false,
          baud: 115200,
          mode: 'manual',
          file,
        },
      }),
    ]);
    // Nothing saved, nothing forgotten: no event says otherwise.
    expect((await stationCli(dataDir, ['line', 'forget'])).stdout).toContain('No line was saved');
    expect(await auditTrail(dataDir, 'line.forgotten')).toHaveLength(1);
  }, 60_000);
});

describe('station queue export', () => {
  it('records the format, the rows, the filter, where they went and who took them', async () => {
    const db = openStationDatabase(join(dataDir, 'station.db'));
    const store = new ProvisioningStore(db);
    for (const serial of ['SN-1', 'SN-2']) {
      const runId = store.beginRun('/dev/ttyUSB1', 'line7', Date.now(), 'auto');
      recordIssuedCertificate(db, `c-${runId}`, `reg-${serial.toLowerCase()}`);
      store.commitPass(passedRun(runId, serial));
    }
    db.close();

    const toStdout = await stationCli(dataDir, ['queue', 'export', '--format', 'csv']);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    const out = join(root, 'pending.json');
    const toFile = ['queue', 'export', '--format', 'json', '--status', 'pending', '--out', out];
    expect((await stationCli(dataDir, [...toFile, '--by', 'ann'])).code).toBe(0);
    // Refused (the file is there now): nothing was handed over, nothing is recorded.
    expect((await stationCli(dataDir, toFile)).code).toBe(2);

    expect(await auditTrail(dataDir, 'outbox.exported')).toEqual([
      expect.objectContaining({
        actor: 'supervisor:ann',
        subject: 'outbox',
        detail: { format: 'json', enrollments: 2, status: 'pending', to: out, replaced: false },
      }),
      expect.objectContaining({
        actor: `supervisor:${ME}`,
        detail: { format: 'csv', enrollments: 2, status: null, to: 'standard output' },
      }),
    ]);
  }, 60_000);
});

describe('a wrong CA passphrase typed at a command', () => {
  it('is recorded with the command and who ran it, never the passphrase', async () => {
    expect((await stationCli(dataDir, ['ca', 'init'], withPassphrase(PASSPHRASE))).code).toBe(0);
    const { pemPath } = await opensslCsr('line7-unit-1');
    const issue = [
      'ca',
      'issue',
      '--csr',
      pemPath,
      '--id',
      'line7-unit-1',
      '--out',
      join(root, 'c.pem'),
    ];
    const refused = await stationCli(dataDir, [...issue, '--by', 'ann'], withPassphrase(WRONG));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');

    // provision asks for it too, before any device is tried: the operator's, by the OS user.
    const provision = ['provision', '--profiles', profilesFile(), '--device', '/dev/ttyLS-none'];
    const notStarted = await stationCli(dataDir, provision, withPassphrase(WRONG));
    expect(notStarted.code).toBe(3);
    expect(notStarted.stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');

    expect(await auditTrail(dataDir, 'ca.passphrase-refused')).toEqual([
      expect.objectContaining({
        actor: `operator:${ME}`,
        subject: 'ca',
        detail: { command: 'provision', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
      expect.objectContaining({
        actor: 'supervisor:ann',
        subject: 'ca',
        detail: { command: 'ca issue', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
    ]);
    // The right one issues, and adds no refusal.
    expect((await stationCli(dataDir, issue, withPassphrase(PASSPHRASE))).code).toBe(0);
    expect(await auditTrail(dataDir, 'ca.passphrase-refused')).toHaveLength(2);
    for (const file of ['station.db', 'station.db-wal'].map((name) => join(dataDir, name))) {
      if (existsSync(file)) expect(readFileSync(file, 'latin1'), file).not.toContain(WRONG);
    }
  }, 60_000);
});

describe('a wrong CA passphrase at the DPS connection and group key commands', () => {
  it('is recorded for sync set-connection, sync now and keys set-group, with the command and who ran it', async () => {
    expect((await stationCli(dataDir, ['ca', 'init'], withPassphrase(PASSPHRASE))).code).toBe(0);
    const connection = {
      LINE_STATION_DPS_CONNECTION:
        'HostName=line7-dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=c3VwZXJ2aXNvci1hdWRpdC10ZXN0LWtleS0wMTIzNDU2Nzg5',
    };
    const setConnection = ['sync', 'set-connection', '--by', 'bea'];
    const refused = await stationCli(dataDir, setConnection, {
      ...connection,
      ...withPassphrase(WRONG),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');
    const stored = await stationCli(dataDir, setConnection, {
      ...connection,
      ...withPassphrase(PASSPHRASE),
    });
    expect(stored.code).toBe(0);
    const now = await stationCli(dataDir, ['sync', 'now'], withPassphrase(WRONG));
    expect(now.stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');
    const groupKey = {
      LINE_STATION_GROUP_KEY: Buffer.alloc(32, 7).toString('base64'),
      ...withPassphrase(WRONG),
    };
    const setGroup = ['keys', 'set-group', '--group', 'gadgets', '--by', 'cy'];
    const keyRefused = await stationCli(dataDir, setGroup, groupKey);
    expect(keyRefused.stderr).toContain('[CUSTODY_WRONG_PASSPHRASE]');

    expect(await auditTrail(dataDir, 'ca.passphrase-refused')).toEqual([
      expect.objectContaining({
        actor: 'supervisor:cy',
        detail: { command: 'keys set-group', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
      expect.objectContaining({
        actor: `supervisor:${ME}`,
        detail: { command: 'sync now', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
      expect.objectContaining({
        actor: 'supervisor:bea',
        detail: { command: 'sync set-connection', passphraseFrom: 'LINE_STATION_CA_PASSPHRASE' },
      }),
    ]);
  }, 60_000);
});

describe('the times station audit and station runs print', () => {
  const ENDED = new Date('2026-12-05T18:00:00.000Z');

  it('are local with the UTC offset in force then; --json keeps ISO 8601 UTC', async () => {
    const db = openStationDatabase(join(dataDir, 'station.db'));
    const store = new ProvisioningStore(db, { now: () => ENDED });
    const runId = store.beginRun('/dev/ttyUSB1', 'line7', ENDED.getTime() - 2_000, 'operator');
    store.recordFailure(runId, {
      state: 'fail',
      error: { code: 'WIRE_TIMEOUT', message: 'The device did not answer.' },
      steps: [],
      finishedAt: ENDED.getTime(),
    });
    db.close();

    // St. John's is 3 h 30 min behind UTC in December, Berlin 1 h ahead.
    const newfoundland = { TZ: 'America/St_Johns' };
    const listed = await stationCli(dataDir, ['audit'], newfoundland);
    expect(listed.stdout).toMatch(/^2026-12-05 14:30:00 -03:30 {2}run\.failed /);
    const berlin = await stationCli(dataDir, ['audit'], { TZ: 'Europe/Berlin' });
    expect(berlin.stdout).toMatch(/^2026-12-05 19:00:00 \+01:00 {2}run\.failed /);
    const [event] = await auditTrail(dataDir);
    expect(event!.at).toBe('2026-12-05T18:00:00.000Z');

    const shown = await stationCli(dataDir, ['runs', 'show', String(runId)], newfoundland);
    expect(shown.stdout).toContain('  started       2026-12-05 14:29:58 -03:30, by the operator\n');
    expect(shown.stdout).toContain('  finished      2026-12-05 14:30:00 -03:30 (2.0 s)\n');
    const runs = await stationCli(dataDir, ['runs', 'list'], newfoundland);
    expect(runs.stdout).toContain(`${runId}  2026-12-05 14:29:58 -03:30  fail`);
    const json = await stationCli(dataDir, ['runs', 'show', String(runId), '--json'], newfoundland);
    expect(JSON.parse(json.stdout)).toMatchObject({
      startedAt: '2026-12-05T17:59:58.000Z',
      finishedAt: '2026-12-05T18:00:00.000Z',
    });
  }, 60_000);
});
