import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import type { DpsConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DPS_CA_ENV, dpsClientFor } from '../production/dpsConnection.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase, openStationDatabaseToRead } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import { AuditLog } from '../store/auditLog.js';
import { SyncLease } from '../sync/syncLease.js';
import { InMemoryDps } from '../sync/testing/inMemoryDps.js';
import { syncCommand } from './syncCommand.js';
import { zonedLocalTime } from './timeFlags.js';

let dataDir: string;
let output: string[];
const key = randomBytes(32).toString('base64');
const dps = new InMemoryDps();
const opened: DpsConnectionString[] = [];
const sync = syncCommand((cs) => {
  opened.push(cs);
  return dps;
});

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sync-command-'));
  // The CA whose passphrase seals the connection (cheap scrypt: the test is not about it).
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Sync test',
    wrapper: new PassphraseKeyWrapper('the station passphrase', { scrypt: { N: 1024 } }),
  });
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void output.push(line));
  vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'the station passphrase');
  vi.stubEnv(
    'LINE_STATION_DPS_CONNECTION',
    `HostName=line7.azure-devices-provisioning.net;SharedAccessKeyName=owner;SharedAccessKey=${key}`,
  );
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A PASS of `serial`; with `certificate` (PEM) an enrollment a real DPS (the emulator) takes. */
function provision(serial: string, certificate?: string): void {
  const db = openStationDatabase(join(dataDir, 'station.db'));
  const store = new ProvisioningStore(db);
  const base = passedRun(store.beginRun('/dev/ttyUSB0', 'line7', 1_000), serial);
  const record =
    certificate === undefined
      ? base
      : {
          ...base,
          enrollment: {
            ...base.enrollment!,
            attestation: {
              type: 'x509',
              x509: { clientCertificates: { primary: { certificate } } },
            },
          },
        };
  recordIssuedCertificate(db, record.certificateSerial!, record.registrationId);
  store.commitPass(record);
  db.close();
}

describe('station sync', () => {
  // Storing DPS credentials left no trace of who did it, or which DPS they were for.
  it('records who stored which DPS connection in the audit trail, never its key', async () => {
    expect(existsSync(join(dataDir, 'station.db'))).toBe(false);
    expect(await sync(['set-connection', '--by', 'sam', '--data-dir', dataDir])).toBe(0);
    vi.stubEnv(
      'LINE_STATION_DPS_CONNECTION',
      `HostName=line8.azure-devices-provisioning.net;SharedAccessKeyName=writer;SharedAccessKey=${key}`,
    );
    // Without --by, the operating-system user, as for every supervisor command.
    expect(await sync(['set-connection', '--data-dir', dataDir])).toBe(0);
    const db = openStationDatabaseToRead(join(dataDir, 'station.db'));
    let events;
    let everything: string;
    try {
      events = new AuditLog(db).list('dps-connection.stored');
      everything = JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
    } finally {
      db.close();
    }
    expect(events.map(({ actor, subject, detail }) => ({ actor, subject, detail }))).toEqual([
      {
        actor: `supervisor:${userInfo().username}`,
        subject: 'dps:line8.azure-devices-provisioning.net',
        detail: {
          hostName: 'line8.azure-devices-provisioning.net',
          sharedAccessKeyName: 'writer',
          replaced: true,
          file: join(dataDir, 'dps', 'connection.sealed.json'),
        },
      },
      {
        actor: 'supervisor:sam',
        subject: 'dps:line7.azure-devices-provisioning.net',
        detail: {
          hostName: 'line7.azure-devices-provisioning.net',
          sharedAccessKeyName: 'owner',
          replaced: false,
          file: join(dataDir, 'dps', 'connection.sealed.json'),
        },
      },
    ]);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain('SharedAccessKey=');
    // --by belongs to set-connection alone: refused elsewhere, not ignored.
    await expect(sync(['status', '--by', 'sam', '--data-dir', dataDir])).rejects.toMatchObject({
      message: expect.stringContaining('--by is not one of its options'),
    });
  });

  it('stores the connection sealed, reports it without the key, and drains the outbox', async () => {
    expect(await sync(['status', '--data-dir', dataDir])).toBe(0);
    expect(output).toContain(
      `DPS connection: not set (station sync set-connection --data-dir ${dataDir})`,
    );

    expect(await sync(['set-connection', '--data-dir', dataDir])).toBe(0);
    expect(output.at(-1)).toMatch(/line7\.azure-devices-provisioning\.net \(policy owner\)/);
    expect(readFileSync(join(dataDir, 'dps', 'connection.sealed.json'), 'utf8')).not.toContain(key);

    provision('SN1');
    provision('SN2');
    expect(await sync(['now', '--data-dir', dataDir])).toBe(0);
    expect(opened).toEqual([
      {
        hostName: 'line7.azure-devices-provisioning.net',
        sharedAccessKeyName: 'owner',
        sharedAccessKey: key,
      },
    ]);
    expect(dps.size).toBe(2);
    expect(output.at(-1)).toMatch(/0 pending, 2 synced, 0 failed, 0 conflict/);

    expect(await sync(['status', '--data-dir', dataDir])).toBe(0);
    expect(output.join('\n')).not.toContain(key);
    expect(await sync(['bogus'])).toBe(2);
  });

  // The hub's string has the same three fields: it was "sealed", and every sync then failed.
  it("refuses an IoT hub's connection string, saying where DPS's is, and seals nothing", async () => {
    vi.stubEnv(
      'LINE_STATION_DPS_CONNECTION',
      `HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`,
    );
    const refused = await sync(['set-connection', '--data-dir', dataDir]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DPS_CONNECTION_STRING_IOT_HUB' });
    expect((refused as Error).message).toMatch(
      /IoT hub's connection string[^]*DPS resource[^]*Shared access policies/,
    );
    expect(existsSync(join(dataDir, 'dps', 'connection.sealed.json'))).toBe(false);
  });

  it('takes a connection string pasted inside quotes', async () => {
    vi.stubEnv(
      'LINE_STATION_DPS_CONNECTION',
      ` 'HostName=line7.azure-devices-provisioning.net;SharedAccessKeyName=owner;SharedAccessKey=${key}' `,
    );
    expect(await sync(['set-connection', '--data-dir', dataDir])).toBe(0);
    expect(output.at(-1)).toMatch(/line7\.azure-devices-provisioning\.net \(policy owner\)/);
  });

  it('says that a line syncing from the folder keeps its connection until restarted', async () => {
    const db = openStationDatabase(join(dataDir, 'station.db'));
    const lease = new SyncLease(db, Date.now); // what a running serve's sync worker holds
    expect(lease.hold()).toEqual({ justTaken: true });
    try {
      expect(await sync(['set-connection', '--data-dir', dataDir])).toBe(0);
      expect(output.at(-1)).toMatch(
        /^A line syncs from this data folder now \(process \d+ on .+\): it keeps the connection it started with\. Restart it/,
      );
    } finally {
      lease.release();
      db.close();
    }
    expect(await sync(['set-connection', '--data-dir', dataDir])).toBe(0);
    expect(output.at(-1)).toMatch(/is sealed in/);
  });

  it('refuses to seal the connection under a passphrase that does not open the CA', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'the station passphrasE');
    await expect(sync(['set-connection', '--data-dir', dataDir])).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(existsSync(join(dataDir, 'dps', 'connection.sealed.json'))).toBe(false);
  });
});

describe('station sync now, against the DPS emulator over HTTPS', () => {
  let emulator: DpsEmulator;
  const realSync = syncCommand(dpsClientFor);
  const caFile = () => join(dataDir, 'emulator-ca.pem');
  const rows = () => {
    const db = openStationDatabase(join(dataDir, 'station.db'));
    try {
      return db
        .prepare(
          `SELECT registration_id AS id, status, last_error_code AS code,
             next_attempt_at AS nextAttemptAt FROM enrollments ORDER BY id`,
        )
        .all() as { id: string; status: string; code: string | null; nextAttemptAt: string }[];
    } finally {
      db.close();
    }
  };
  const update = (sql: string, ...params: unknown[]) => {
    const db = openStationDatabase(join(dataDir, 'station.db'));
    db.prepare(sql).run(...params);
    db.close();
  };
  const inMinutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  beforeEach(async () => {
    emulator = await startDpsEmulator({});
    writeFileSync(caFile(), emulator.caCertificatePem);
    vi.stubEnv(DPS_CA_ENV, '');
    vi.stubEnv('LINE_STATION_DPS_CONNECTION', emulator.serviceConnectionString);
    expect(await realSync(['set-connection', '--data-dir', dataDir])).toBe(0);
    output.length = 0;
  });
  afterEach(() => emulator.close());

  it('names LINE_STATION_DPS_CA when the certificate is not trusted, then sends the rows the station held at once', async () => {
    provision('SN1', emulator.caCertificatePem);
    provision('SN2', emulator.caCertificatePem);
    const refused = await realSync(['now', '--data-dir', dataDir]).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'SYNC_DPS_UNTRUSTED' });
    const { message } = refused as Error;
    expect(message).toMatch(
      /^The station does not trust the issuer of the DPS server's certificate/,
    );
    expect(message).toContain('LINE_STATION_DPS_CA must name its CA certificate file');
    expect(rows().map((r) => [r.status, r.code])).toEqual([
      ['pending', 'SYNC_DPS_UNTRUSTED'],
      ['pending', 'SYNC_DPS_UNTRUSTED'],
    ]);
    // The station's own backoff, as after repeated refusals: minutes, not a second.
    const until = inMinutes(5);
    update(`UPDATE enrollments SET next_attempt_at = ?`, until);

    // A supervisor fixes the cause and asks again: nothing waits out the station's own delay.
    vi.stubEnv(DPS_CA_ENV, caFile());
    expect(await realSync(['now', '--data-dir', dataDir])).toBe(0);
    expect(emulator.stats()).toMatchObject({ enrollments: 2 });
    expect(output).toContain(
      `Not waited for: 2 enrollment(s) waiting out the station's own retry delay after SYNC_DPS_UNTRUSTED (until ${until}) were due at once: sync now does not wait for the station's own delay.`,
    );
    expect(output.filter((l) => l.startsWith('Due later'))).toEqual([]);
    expect(output.at(-1)).toMatch(/0 pending, 2 synced, 0 failed, 0 conflict/);
  });

  it('honours a wait DPS asked for, and says how many rows it kept and until when', async () => {
    vi.stubEnv(DPS_CA_ENV, caFile());
    for (const serial of ['SN1', 'SN2', 'SN3']) provision(serial, emulator.caCertificatePem);
    // What a DPS throttle leaves on its rows (syncWorker.recovery.test.ts): SYNC_DPS_RETRY.
    const first = inMinutes(3);
    const last = inMinutes(4);
    update(
      `UPDATE enrollments SET last_error_code = 'SYNC_DPS_RETRY', last_error = 'DPS_THROTTLED, HTTP 429',
         next_attempt_at = CASE registration_id WHEN 'reg-sn2' THEN ? ELSE ? END
       WHERE registration_id IN ('reg-sn2', 'reg-sn3')`,
      first,
      last,
    );
    expect(await realSync(['now', '--data-dir', dataDir])).toBe(0);
    expect(emulator.stats()).toMatchObject({ enrollments: 1 });
    expect(rows().map((r) => [r.id, r.status])).toEqual([
      ['reg-sn1', 'synced'],
      ['reg-sn2', 'pending'],
      ['reg-sn3', 'pending'],
    ]);
    expect(output).toContainEqual(
      `Due later, not sent: 2 enrollment(s) wait for DPS (SYNC_DPS_RETRY: it throttled or failed them), the first not before ${zonedLocalTime(first)} (in 3 min), the last not before ${zonedLocalTime(last)}. Sync now honours DPS's waits: run it again after that, or let a serving station send them.`,
    );
    expect(output.filter((l) => l.startsWith('Not waited for'))).toEqual([]);
    expect(output.at(-1)).toMatch(/2 pending, 1 synced/);
  });
});
