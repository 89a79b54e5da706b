import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { startDpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { saveDpsConnectionString } from '../sync/dpsCredentials.js';
import { ManualClock } from '../sync/testing/manualClock.js';
import { stateReached, SyncTestStation } from '../sync/testing/syncTestStation.js';
import { attentionLines, retryWaitLines, syncCommand } from './syncCommand.js';
import { zonedLocalTime } from './timeFlags.js';

let station: SyncTestStation;
let output: string[];

beforeEach(() => {
  station = new SyncTestStation();
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  station.close();
});

const status = () => syncCommand(() => ({}) as never)(['status', '--data-dir', station.dir]);

describe('station sync status', () => {
  it('tells a worker that is not running from none at all (no DPS connection stored)', async () => {
    expect(await status()).toBe(0);
    expect(output).toContain(
      `Sync worker: none, as no DPS connection is stored: enrollments wait in the outbox (station sync set-connection --data-dir ${station.dir}, or carry them with station bundle export --data-dir ${station.dir})`,
    );
    output.length = 0;
    await saveDpsConnectionString(
      station.dir,
      `HostName=ls-test.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${Buffer.alloc(32, 3).toString('base64')}`,
      new PassphraseKeyWrapper('sync status test passphrase'),
    );
    expect(await status()).toBe(0);
    expect(output.join('\n')).toMatch(/^Sync worker: not running \(a station sends the outbox/m);
  });

  it('says what has waited longest and the latest problem the sync worker recorded', async () => {
    // The station process ran a worker that found DPS unreachable; the CLI is another process
    // and learns why only from the rows.
    station.provision('SN1');
    station.provision('SN2');
    station.dps.failNext('bulkEnrollments', { kind: 'unreachable' });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'offline');
    expect(await status()).toBe(0);
    expect(output).toContain(`Sync worker: running (process ${process.pid} on ${hostname()})`);
    await worker.stop();

    output.length = 0;
    expect(await status()).toBe(0);
    const text = output.join('\n');
    // This station stores no DPS connection (its worker ran on a stand-in): none will run.
    expect(text).toMatch(/^Sync worker: none, as no DPS connection is stored/m);
    expect(text).toMatch(/pending\s+2/);
    expect(text).toMatch(
      /^Waiting longest: reg-sn1, passed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d /m,
    );
    // The worker's clock stood at 2026-03-01: that next try has passed.
    expect(text).toMatch(
      /^Latest sync problem: SYNC_OFFLINE on reg-sn\d \(pending\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d; due again since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/m,
    );
    expect(text).toMatch(/^ {2}its batch stopped before DPS settled it: DPS_UNREACHABLE/m);
    expect(text).toMatch(/^ {2}DPS cannot be reached\. Enrollments stay queued/m);
  });

  it('counts the carried enrollments of exported bundles that no receipt has settled yet', async () => {
    const carried = station.provision('SN1');
    station.provision('SN2');
    expect(await status()).toBe(0);
    expect(output.join('\n')).not.toMatch(/Outbox bundles/);
    // Two bundles carry the same row (the first stick was lost): it is counted once.
    for (const bundle of ['b1', 'b2']) {
      station.db
        .prepare(
          `INSERT INTO bundles (id, created_at, file, enrollments, written_at) VALUES (?, 'now', 'f', 1, 'now')`,
        )
        .run(bundle);
      station.db
        .prepare(
          `INSERT INTO bundle_enrollments (bundle_id, enrollment_id, body_sha256) VALUES (?, ?, ?)`,
        )
        .run(bundle, carried, 'ab'.repeat(32));
    }
    output.length = 0;
    expect(await status()).toBe(0);
    expect(output.join('\n')).toMatch(
      /^Outbox bundles: 2 exported; 1 carried enrollment\(s\) still pending here/m,
    );
  });

  it('does not date an old problem by the time its row was claimed to be sent again', async () => {
    station.provision('SN1');
    station.dps.failNext('bulkEnrollments', { kind: 'unreachable' });
    const worker = station.worker();
    worker.start();
    await stateReached(worker, 'offline');
    const held = station.dps.holdNext('bulkEnrollments');
    const sent = worker.syncNow();
    await held.reached; // the row is `syncing`, its SYNC_OFFLINE still on it
    expect(await status()).toBe(0);
    expect(output).toContainEqual(expect.stringMatching(/^syncing\s+1$/));
    expect(output.filter((l) => l.startsWith('Latest sync problem'))).toEqual([]);
    held.release();
    await sent;
    await worker.stop();
  });

  it('says nothing more than the counts when the outbox is empty or synced', async () => {
    station.provision('SN1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    await worker.stop();

    expect(await status()).toBe(0);
    expect(output.join('\n')).toMatch(/synced\s+1/);
    expect(output.filter((l) => /Waiting|problem/.test(l))).toEqual([]);
  });
});

describe('attentionLines', () => {
  it('sends a supervisor to the rows that wait for one, and reads ages plainly', () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(
      attentionLines(
        {
          oldestWaiting: { registrationId: 'a', createdAt: '2026-12-05T09:00:00.000Z' },
          latestProblem: {
            registrationId: 'b',
            status: 'failed',
            code: 'SYNC_DPS_REJECTED',
            message: 'DPS refused the enrollment: 400004 Invalid certificate.',
            at: '2026-12-05T11:59:30.000Z',
            nextAttemptAt: null,
          },
        },
        now,
      ),
    ).toEqual([
      `Waiting longest: a, passed ${zonedLocalTime('2026-12-05T09:00:00.000Z')} (3 h ago)`,
      `Latest sync problem: SYNC_DPS_REJECTED on b (failed) at ${zonedLocalTime('2026-12-05T11:59:30.000Z')}`,
      '  DPS refused the enrollment: 400004 Invalid certificate.',
      '  DPS refused this enrollment. Check the DPS error shown with it and the product profile.',
      '  Failed and conflict rows wait for a supervisor: station queue list --status failed',
    ]);
  });
});

describe('attentionLines, for a DPS certificate the station does not trust', () => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  const problem = (message: string, nextAttemptAt: string | null) => ({
    latestProblem: {
      registrationId: 'b',
      status: 'pending' as const,
      code: 'SYNC_DPS_UNTRUSTED',
      message,
      at: '2026-12-05T11:59:30.000Z',
      nextAttemptAt,
    },
  });

  it('says which check failed, names LINE_STATION_DPS_CA, and that sync now does not wait', () => {
    const lines = attentionLines(
      problem(
        'DPS_TLS_UNTRUSTED, POST /enrollments: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate',
        '2026-12-05T12:04:00.000Z',
      ),
      now,
    );
    expect(lines[0]).toBe(
      `Latest sync problem: SYNC_DPS_UNTRUSTED on b (pending) at ${zonedLocalTime('2026-12-05T11:59:30.000Z')}; next try not before ${zonedLocalTime('2026-12-05T12:04:00.000Z')} (in 4 min; a supervisor's sync now sends it at once)`,
    );
    expect(lines[2]).toMatch(/^ {2}The station does not trust the issuer[^]*LINE_STATION_DPS_CA/);
  });

  it('sends a host name mismatch to the connection string, not to the CA', () => {
    const lines = attentionLines(
      problem(
        "DPS_TLS_UNTRUSTED, POST /enrollments: ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames",
        null,
      ),
      now,
    );
    expect(lines[0]).toMatch(/; due at the next send$/);
    expect(lines[2]).toMatch(
      /not made out for the host name[^]*LINE_STATION_DPS_CA does not change this/,
    );
  });

  // Another process reads only the row's text: node's code in it is read back with the DPS
  // client's own list, so a refusal the station once had no words for gets its own.
  it.each([
    [
      'CERT_REJECTED',
      /^ {2}A certificate authority in the DPS server's certificate chain is marked/,
    ],
    ['CERT_SIGNATURE_FAILURE', /^ {2}A signature in the DPS server's certificate chain/],
    ['CERT_NOT_YET_VALID', /^ {2}The DPS server's certificate is not valid yet/],
  ])('words a row refused with %s by its kind', (code, words) => {
    const lines = attentionLines(
      problem(`DPS_TLS_UNTRUSTED, POST /enrollments: ${code}: refused`, null),
      now,
    );
    expect(lines[2]).toMatch(words);
  });

  it('says it cannot tell when the row names no refusal it knows', () => {
    const lines = attentionLines(problem('DPS_TLS_UNTRUSTED, POST /enrollments', null), now);
    expect(lines[2]).toMatch(/^ {2}The station does not trust the DPS server's certificate/);
  });
});

describe('retryWaitLines', () => {
  it('says what failed again during the sync now and waits out the station delay', () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    const waits = {
      stationOwn: {
        count: 1,
        codes: ['SYNC_SECRET_LOCKED'],
        first: '2026-12-05T12:00:30.000Z',
        last: '2026-12-05T12:00:30.000Z',
      },
    };
    expect(retryWaitLines({}, waits, now)).toEqual([
      `Due later, not sent: 1 enrollment(s) failed again here (SYNC_SECRET_LOCKED) and wait out the station's retry delay, the first not before ${zonedLocalTime('2026-12-05T12:00:30.000Z')} (in 30 s). Fix the cause, then run sync now again: it sends them at once.`,
    ]);
    expect(retryWaitLines({}, {}, now)).toEqual([]);
  });
});

describe('station sync status, after the DPS emulator went down under a serving station', () => {
  // It printed "next try not before" equal to the time of the problem, and a row quoting
  // another row's request (GET /enrollments/<the other ID>).
  it('gives the worker’s real next try, and row text naming no other enrollment', async () => {
    const emulator = await startDpsEmulator({});
    const dps = new DpsServiceClient({
      connectionString: emulator.serviceConnectionString,
      ca: emulator.caCertificatePem,
    });
    station.provision('SIM000005');
    station.provision('SIM000006');
    station.db.prepare(`UPDATE enrollments SET needs_reconcile = 1`).run();
    await emulator.close();
    const worker = station.worker({ dps, clock: new ManualClock(Date.now()) });
    worker.start();
    // Its port refuses the connection: offline, with its own code (DPS_CONNECTION_REFUSED).
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_DPS_CONNECTION_REFUSED' });
    const next = worker.status().heldUntil ?? '';
    expect(await status()).toBe(0);
    await worker.stop();
    dps.close();
    const problem = output.find((l) => l.startsWith('Latest sync problem')) ?? '';
    // Shown as local time with its offset: as ISO 8601, "2026-12-05T13:00:00+01:00".
    const [, day, time, offset] = /\) at (\S+) (\S+) (\S+);/.exec(problem) ?? [];
    const at = `${day}T${time}${offset}`;
    expect(problem).toContain(`; next try not before ${zonedLocalTime(next)} (in `);
    expect(Date.parse(next)).toBeGreaterThan(Date.parse(at));
    const shown = output.join('\n');
    expect(shown).toMatch(
      /^ {2}its batch stopped before DPS settled it: DPS_CONNECTION_REFUSED, ECONNREFUSED/m,
    );
    expect(shown).not.toMatch(/GET \/enrollments/);
  });
});
