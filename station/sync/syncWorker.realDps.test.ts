import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { SyncLog } from '../production/syncLog.js';
import type { SettledTrouble } from './settledTrouble.js';
import { ManualClock } from './testing/manualClock.js';
import { stateReached, SyncTestStation } from './testing/syncTestStation.js';
import type { SyncWorker } from './syncWorker.js';

/**
 * The sync worker against the project's DPS emulator over HTTPS, with a real station database:
 * what a supervisor saw on a line whose enrollments ended in conflict, whose DPS was down, or
 * whose connection string named a host that does not exist.
 */

let emulator: DpsEmulator;
let station: SyncTestStation;
const clients: DpsServiceClient[] = [];

beforeEach(async () => {
  emulator = await startDpsEmulator({});
  station = new SyncTestStation();
});
afterEach(async () => {
  await station.close();
  for (const client of clients.splice(0)) client.close();
  await emulator.close();
});

/** A DPS client for the emulator, or for `hostName` with the emulator's credentials. */
function client(hostName = emulator.hostName): DpsServiceClient {
  const connectionString = parseConnectionString(
    emulator.serviceConnectionString.replace(emulator.hostName, hostName),
  );
  const dps = new DpsServiceClient({ connectionString, ca: emulator.caCertificatePem });
  clients.push(dps);
  return dps;
}

const serials = (n: number) =>
  Array.from({ length: n }, (_, i) => `SIM${String(i + 1).padStart(6, '0')}`);

/** A PASS whose enrollment the emulator takes (an x509 certificate it can parse). */
function provision(serial: string): number {
  const registrationId = `ls-demo-1-${serial.toLowerCase()}`;
  return station.provision(serial, {
    registrationId,
    enrollment: {
      registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: emulator.caCertificatePem } } },
      },
      provisioningStatus: 'enabled',
    },
  });
}

/** A worker on the real client, its clock at the wall clock's time (sync status reads it). */
function worker(dps: DpsServiceClient): SyncWorker {
  return station.worker({ dps, clock: new ManualClock(Date.now()) });
}

/** What `serve` logs of a worker: its state changes and the batches that need a supervisor. */
function serveLog(sync: SyncWorker): string[] {
  const log = new SyncLog();
  const lines: string[] = [];
  const keep = (text: string | undefined) => text !== undefined && lines.push(text);
  sync.onStateChange.on((change) => keep(log.line(change, sync.status().lastError)));
  sync.onTrouble.on((trouble) => keep(log.trouble(trouble)));
  return lines;
}

describe('the sync worker against the DPS emulator', () => {
  // DPS held the five IDs with other credentials (a second training run); serve said nothing.
  it('logs a batch whose enrollments end in conflict: count, IDs, code and what to do', async () => {
    const ids = serials(5).map((s) => `ls-demo-1-${s.toLowerCase()}`);
    const key = () => randomBytes(32).toString('base64');
    for (const registrationId of ids) {
      await client().createOrUpdateEnrollment({
        registrationId,
        attestation: {
          type: 'symmetricKey',
          symmetricKey: { primaryKey: key(), secondaryKey: key() },
        },
      });
    }
    for (const serial of serials(5)) provision(serial);
    const sync = worker(client());
    const troubles: SettledTrouble[] = [];
    sync.onTrouble.on((t) => troubles.push(t));
    const lines = serveLog(sync);
    sync.start();
    const { counts } = await sync.syncNow();
    expect(counts.conflict).toBe(5);
    expect(troubles).toHaveLength(1);
    expect(troubles[0]).toMatchObject({ settled: 5, conflicts: ids, failed: [] });
    expect(lines).toEqual([
      `DPS sync: 5 of 5 enrollment(s) settled in a batch wait for a supervisor: 5 conflict [SYNC_CONFLICT]: ${ids.join(', ')} (DPS already holds these registration IDs with other credentials; the station does not overwrite them: check them in DPS (station queue list --status conflict), then delete a stale one there and station queue requeue --status conflict --by NAME, or set the device aside)`,
    ]);
  });

  // queue list showed ls-demo-1-sim000005 with "[SYNC_OFFLINE] … GET /enrollments/ls-demo-1-sim000006".
  it('with DPS down, words each row’s error as its batch’s, naming no other enrollment', async () => {
    const ids = serials(3).map(provision);
    // As a crash leaves them: read back from DPS first, one GET per row.
    station.db.prepare(`UPDATE enrollments SET needs_reconcile = 1`).run();
    const dps = client();
    await emulator.close();
    const sync = worker(dps);
    sync.start();
    // Its port refuses the connection now: told as such (syncWorker.refusedConnection.test.ts).
    await expect(sync.syncNow()).rejects.toMatchObject({ code: 'SYNC_DPS_CONNECTION_REFUSED' });
    const { lastError, heldUntil } = sync.status();
    // The worker's own error, for the log, keeps the request it met the failure on.
    expect(lastError?.detail).toMatch(
      /^DPS_CONNECTION_REFUSED, GET \/enrollments\/ls-demo-1-sim000001: /,
    );
    const rows = ids.map((id) => station.row(id));
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'pending',
        lastErrorCode: 'SYNC_DPS_CONNECTION_REFUSED',
      });
      expect(row.lastError).toMatch(
        /^its batch stopped before DPS settled it: DPS_CONNECTION_REFUSED, ECONNREFUSED: /,
      );
      for (const other of rows) expect(row.lastError).not.toContain(other.registrationId);
      // The next try is the worker's, not the time of the problem.
      expect(row.nextAttemptAt).toBe(heldUntil);
    }
    expect(Date.parse(heldUntil ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  // A mistyped host was "DPS cannot be reached (network down or offline)": check the cables.
  it('tells a host name that does not resolve from a network that is down, and keeps trying', async () => {
    const ids = serials(2).map(provision);
    const sync = worker(client('line7-dsp.invalid:443'));
    const lines = serveLog(sync);
    sync.start();
    const refused = await sync.syncNow().catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'SYNC_DPS_HOST_UNKNOWN' });
    expect((refused as Error).message).toMatch(/host name in the DPS connection string/);
    await stateReached(sync, 'offline');
    const status = sync.status();
    expect(status.lastError).toMatchObject({ code: 'DPS_HOST_NOT_FOUND' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^DPS sync: syncing -> offline: The DPS host name does not resolve[^\n]*\[DPS_HOST_NOT_FOUND\]\n {2}detail: DPS_HOST_NOT_FOUND, POST \/enrollments: (ENOTFOUND|EAI_AGAIN)/,
    );
    expect(lines[0]).not.toMatch(/network down/);
    for (const id of ids) {
      expect(station.row(id)).toMatchObject({
        status: 'pending',
        lastErrorCode: 'SYNC_DPS_HOST_UNKNOWN',
        nextAttemptAt: status.heldUntil,
      });
    }
  });

  // A TPM device re-provisioned after its product moved to another hub kept the first hub in DPS:
  // the worker saw its own endorsement key there and called the enrollment found.
  it('rewrites an enrollment of the same credential under a changed profile, and finds an unchanged one', async () => {
    const registrationId = 'ls-demo-1-sim000001';
    const enrollment = (line: string, hub: string) => ({
      registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: emulator.caCertificatePem } } },
      },
      initialTwin: { tags: { line } },
      iotHubs: [hub],
      provisioningStatus: 'enabled',
    });
    const sync = worker(client());
    sync.start();
    station.provision('SIM000001', {
      registrationId,
      enrollment: enrollment('A', 'demo-hub-1.azure-devices.net'),
    });
    await sync.syncNow();

    // The same device again, same profile: DPS's own spelling of the record is no change.
    const again = station.provision('SIM000001', {
      registrationId,
      enrollment: enrollment('A', 'DEMO-HUB-1.azure-devices.net'),
    });
    sync.notify();
    await sync.syncNow();
    expect(station.row(again)).toMatchObject({ status: 'synced', syncNote: 'found in DPS' });

    const moved = station.provision('SIM000001', {
      registrationId,
      enrollment: enrollment('B', 'demo-hub-2.azure-devices.net'),
    });
    sync.notify();
    await sync.syncNow();
    expect(station.row(moved)).toMatchObject({ status: 'synced', syncNote: 'replaced in DPS' });
    expect(await client().getEnrollment(registrationId)).toMatchObject({
      initialTwin: { tags: { line: 'B' } },
      iotHubs: ['demo-hub-2.azure-devices.net'],
    });
  });
});
