/**
 * The DEMO's cloud side, all on this machine: the local DPS emulator as the sync target, the
 * sync worker draining the outbox into it, and the "field": once an enrollment is synced, the
 * simulated device that holds it registers with the emulator using only what the station wrote
 * into its flash, and its slot shows the hub DPS assigned. That closes the loop a real line runs
 * across factory and field.
 */
import type Database from 'better-sqlite3';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import type { DeviceRegistrationResult } from '../../dps/device/registrationTypes.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import type { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { IsolatedEvent } from '../line/isolatedEvent.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import { SyncWorker } from '../sync/syncWorker.js';
import type { ProvisioningStore } from '../store/provisioningStore.js';
import { registerFromFlash } from './fieldRegistration.js';

export interface DemoDpsOptions {
  db: Database.Database;
  store: ProvisioningStore;
  simulator: Simulator;
  /** The DEMO CA's chain (issuing CA first, root last): uploaded to the emulator as verified. */
  caChainDer: readonly Uint8Array[];
  idScope: string;
  openSecret: OpenSecret;
  log: (line: string) => void;
}

export interface FieldRegistration {
  registrationId: string;
  result?: DeviceRegistrationResult;
  error?: { code: string; message: string };
}

export interface DemoDps {
  emulator: DpsEmulator;
  sync: SyncWorker;
  /** A simulated device registered (or failed to) after its enrollment synced. */
  readonly onFieldRegistration: IsolatedEvent<FieldRegistration>;
  /** Registration IDs that registered, with their hub. */
  registered(): ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

/** Starts the emulator; call `sync.start()` once the line is up. */
export async function startDemoDps(options: DemoDpsOptions): Promise<DemoDps> {
  const emulator = await startDpsEmulator({
    idScope: options.idScope,
    serviceName: 'line-station-demo',
    // The supervisor of a real DPS uploads and verifies the station CA once; the DEMO's is
    // verified from the start.
    verifiedCas: options.caChainDer.map(certificateToPem),
  });
  const client = new DpsServiceClient({
    connectionString: emulator.serviceConnectionString,
    ca: emulator.caCertificatePem,
  });
  const sync = new SyncWorker({
    db: options.db,
    dps: client,
    openSecret: options.openSecret,
    pollIntervalMs: 1000,
  });
  const onFieldRegistration = new IsolatedEvent<FieldRegistration>();
  const registered = new Map<string, string>();
  const attempted = new Set<string>();
  const abort = new AbortController();

  const registerSynced = (): void => {
    for (const entry of options.store.listOutbox({ status: 'synced', limit: 1000 })) {
      const id = entry.registrationId;
      if (attempted.has(id)) continue;
      const device = options.simulator.devices.find(
        (d) => d.state.committed.config.registrationId === id,
      );
      if (!device) continue;
      attempted.add(id);
      registerFromFlash(device.state.committed, {
        ca: emulator.caCertificatePem,
        signal: abort.signal,
      }).then(
        (result) => {
          registered.set(id, result.assignedHub);
          options.log(`DEMO field: ${id} registered with DPS, assigned to ${result.assignedHub}`);
          onFieldRegistration.emit({ registrationId: id, result });
        },
        (err: { code?: string; message: string }) => {
          if (abort.signal.aborted) return;
          attempted.delete(id); // a later sync round tries again
          const error = { code: err.code ?? 'FIELD_REGISTRATION_FAILED', message: err.message };
          options.log(`DEMO field: ${id} could not register: ${error.code}`);
          onFieldRegistration.emit({ registrationId: id, error });
        },
      );
    }
  };
  let lastSynced = -1;
  sync.onProgress.on((progress) => {
    if (progress.counts.synced === lastSynced) return;
    lastSynced = progress.counts.synced;
    registerSynced();
  });

  let stopped: Promise<void> | undefined;
  return {
    emulator,
    sync,
    onFieldRegistration,
    registered: () => registered,
    stop: () =>
      (stopped ??= (async () => {
        abort.abort(new Error('the DEMO is stopping'));
        await sync.stop();
        client.close();
        await emulator.close();
      })()),
  };
}
