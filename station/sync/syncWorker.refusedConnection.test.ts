import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { syncCommand } from '../cli/syncCommand.js';
import { SyncLog } from '../production/syncLog.js';
import { ManualClock } from './testing/manualClock.js';
import { progressReached, stateReached, SyncTestStation } from './testing/syncTestStation.js';

/**
 * A DPS whose host refuses the TCP connection (nothing listens on the port: the emulator not
 * running, a wrong port in the connection string) is told apart from a network that is down, and
 * is still waited out and retried as one. Real parts: the DPS emulator with a file store, stopped
 * so its port on 127.0.0.1 refuses and started again on it, the real DPS client, a real station
 * database, and `sync status` reading it as a supervisor would.
 */

let folder: string;
let emulator: DpsEmulator | undefined;
let station: SyncTestStation;
let dps: DpsServiceClient;
let port: number;
let caPem: string;
const storage = () => ({ file: join(folder, 'emulator.sqlite') });

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'refused-dps-'));
  // Its identity (connection key, CA) is kept in the file, so the same client works once it is
  // back; closed, its port refuses every connection.
  const first = await startDpsEmulator({ storage: storage() });
  port = first.port;
  caPem = first.caCertificatePem;
  dps = new DpsServiceClient({
    connectionString: parseConnectionString(first.serviceConnectionString),
    ca: first.caCertificatePem,
  });
  await first.close();
  station = new SyncTestStation();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await station.close();
  dps.close();
  await emulator?.close();
  emulator = undefined;
  rmSync(folder, { recursive: true, force: true });
});

/** A PASS whose enrollment the emulator takes (an x509 certificate it can parse). */
function provision(serial: string): number {
  const registrationId = `ls-demo-1-${serial.toLowerCase()}`;
  return station.provision(serial, {
    registrationId,
    enrollment: {
      registrationId,
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: caPem } } },
      },
      provisioningStatus: 'enabled',
    },
  });
}

describe('the sync worker when the DPS host refuses the connection', () => {
  it('says what to check (port, proxy or firewall, the emulator), keeps the rows and retries', async () => {
    const ids = ['SIM000001', 'SIM000002'].map(provision);
    const clock = new ManualClock(Date.now());
    const sync = station.worker({ dps, clock });
    const log = new SyncLog();
    const lines: string[] = [];
    sync.onStateChange.on((change) => {
      const text = log.line(change, sync.status().lastError);
      if (text !== undefined) lines.push(text);
    });
    sync.start();

    const refused = await sync.syncNow().catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'SYNC_DPS_CONNECTION_REFUSED' });
    expect((refused as Error).message).toMatch(/port in the DPS connection string/);
    expect((refused as Error).message).toMatch(/DPS emulator is running/);
    expect((refused as Error).message).not.toMatch(/cannot be reached|network/);

    await stateReached(sync, 'offline');
    const status = sync.status();
    expect(status).toMatchObject({
      connection: 'offline',
      lastError: { code: 'DPS_CONNECTION_REFUSED' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^DPS sync: syncing -> offline: The DPS host refused the connection[^\n]*proxy or firewall[^\n]*\[DPS_CONNECTION_REFUSED\]\n {2}detail: DPS_CONNECTION_REFUSED, [A-Z]+ \/enrollments[^:]*: ECONNREFUSED/,
    );
    expect(lines[0]).not.toMatch(/network down|unreachable/i);
    // Kept, and due again at the worker's next try: offline-then-sync, as for a network down.
    for (const id of ids) {
      expect(station.row(id)).toMatchObject({
        status: 'pending',
        lastErrorCode: 'SYNC_DPS_CONNECTION_REFUSED',
        nextAttemptAt: status.heldUntil,
      });
    }

    // What a supervisor reads from another process: the code, and what it asks.
    const output: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
    expect(await syncCommand(() => ({}) as never)(['status', '--data-dir', station.dir])).toBe(0);
    const text = output.join('\n');
    expect(text).toMatch(
      /^Latest sync problem: SYNC_DPS_CONNECTION_REFUSED on ls-demo-1-sim00000/m,
    );
    expect(text).toMatch(/check the host name and port in the DPS connection string/);
    expect(text).not.toMatch(/network down/);

    // The emulator is back on its port: the worker's own retry, after its backoff, sends them.
    emulator = await startDpsEmulator({ storage: storage(), port });
    const synced = progressReached(sync, (p) => p.counts.synced === ids.length);
    await clock.advanceToNextTimer();
    expect((await synced).counts).toMatchObject({ pending: 0, synced: 2 });
    await stateReached(sync, 'idle');
    expect(sync.status().lastError).toBeUndefined();
  });
});
