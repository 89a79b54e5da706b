import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { sealedText, sealSecret, type KeyWrapper } from '../../../certs/custody/secretBox.js';
import { symmetricKeySealContext } from '../../line/attestation/symmetricKey.js';
import type { PassedRunRecord } from '../../line/lineTypes.js';
import { ProvisioningStore } from '../../store/provisioningStore.js';
import { openStationDatabase } from '../../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../../store/testing/provisioningFixtures.js';
import type { OpenSecret } from '../enrollmentRequest.js';
import { SyncWorker, type SyncWorkerOptions } from '../syncWorker.js';
import type { SyncProgress, SyncState } from '../syncTypes.js';
import { InMemoryDps } from './inMemoryDps.js';
import { ManualClock } from './manualClock.js';

/** A row of the outbox as the sync tests check it. */
export interface SyncRow {
  id: number;
  registrationId: string;
  status: string;
  attempts: number;
  etag: string | null;
  nextAttemptAt: string | null;
  needsReconcile: number;
  syncedAt: string | null;
  lastErrorCode: string | null;
  lastError: string | null;
  dpsError: string | null;
  dpsRecord: string | null;
  syncNote: string | null;
  body: string;
}

/** A PEM-shaped certificate of random bytes: enough for fingerprints, no parsing involved. */
export function fakeCertificatePem(): string {
  return `-----BEGIN CERTIFICATE-----\n${randomBytes(48).toString('base64')}\n-----END CERTIFICATE-----\n`;
}

/**
 * A station for the sync tests: a real SQLite file with every migration, the real
 * ProvisioningStore to commit passes as the line does, an InMemoryDps and a ManualClock.
 */
export class SyncTestStation {
  readonly dir = mkdtempSync(join(tmpdir(), 'sync-worker-'));
  readonly db: Database.Database = openStationDatabase(join(this.dir, 'station.db'));
  readonly store = new ProvisioningStore(this.db);
  readonly clock = new ManualClock();
  readonly dps = new InMemoryDps(this.clock);
  /** Cheap scrypt: these tests are about sync, not about the passphrase. */
  readonly wrapper = new PassphraseKeyWrapper('sync test passphrase', { scrypt: { N: 1024 } });
  readonly openSecret: OpenSecret = sealedText(this.wrapper).open;
  private readonly workers: SyncWorker[] = [];

  worker(options: Partial<SyncWorkerOptions> = {}): SyncWorker {
    const worker = new SyncWorker({
      db: this.db,
      dps: this.dps,
      openSecret: this.openSecret,
      clock: this.clock,
      random: () => 0.5,
      ...options,
    });
    this.workers.push(worker);
    return worker;
  }

  /** Commits a PASS as the line does (superseding the device's earlier one); returns its row id. */
  provision(serial: string, overrides: Partial<PassedRunRecord> = {}): number {
    const runId = this.store.beginRun('/dev/ttyUSB0', 'line7', 1_000);
    const base = passedRun(runId, serial, overrides);
    const record: PassedRunRecord = overrides.enrollment
      ? base
      : {
          ...base,
          enrollment: {
            registrationId: base.registrationId,
            attestation: {
              type: 'x509',
              x509: { clientCertificates: { primary: { certificate: fakeCertificatePem() } } },
            },
            provisioningStatus: 'enabled',
          },
        };
    if (record.certificateSerial !== undefined) {
      recordIssuedCertificate(this.db, record.certificateSerial, record.registrationId);
    }
    const earlier = this.store.findEarlierPass({
      ...record.device,
      registrationId: record.registrationId,
    });
    return this.store.commitPass(record, earlier ? { supersedes: earlier } : {});
  }

  /**
   * A symmetric-key-individual PASS whose key is sealed as the line seals it: under this
   * station's wrapper, or `wrapper` (a real CA passphrase's, for the commands that open it).
   */
  async provisionSymmetric(
    serial: string,
    key: Uint8Array | null,
    registrationId = `reg-${serial.toLowerCase()}`,
    wrapper: KeyWrapper = this.wrapper,
  ): Promise<number> {
    const sealed =
      key === null
        ? undefined
        : JSON.stringify(await sealSecret(key, wrapper, symmetricKeySealContext(registrationId)));
    return this.provision(serial, {
      registrationId,
      attestation: 'symmetric-key-individual',
      certificateSerial: undefined,
      ...(sealed !== undefined && { sealedSecret: sealed }),
      enrollment: {
        registrationId,
        attestation: { type: 'symmetricKey', symmetricKey: {} },
        provisioningStatus: 'enabled',
      },
    });
  }

  /** A symmetric-key group member: the row names the group, DPS needs nothing. */
  provisionGroupMember(serial: string, enrollmentGroupId: string): number {
    const registrationId = `reg-${serial.toLowerCase()}`;
    return this.provision(serial, {
      attestation: 'symmetric-key-group',
      certificateSerial: undefined,
      enrollment: { registrationId, enrollmentGroupId },
    });
  }

  rows(): SyncRow[] {
    return this.db
      .prepare(
        `SELECT id, registration_id AS registrationId, status, attempts, etag,
          next_attempt_at AS nextAttemptAt, needs_reconcile AS needsReconcile,
          synced_at AS syncedAt, last_error_code AS lastErrorCode, last_error AS lastError,
          dps_error AS dpsError, dps_record AS dpsRecord, sync_note AS syncNote, body
        FROM enrollments ORDER BY id`,
      )
      .all() as SyncRow[];
  }

  row(id: number): SyncRow {
    const row = this.rows().find((r) => r.id === id);
    if (!row) throw new Error(`no enrollment ${id}`);
    return row;
  }

  statuses(): string[] {
    return this.rows().map((r) => r.status);
  }

  async close(): Promise<void> {
    for (const worker of this.workers) await worker.stop();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves when the worker is (or next becomes) `state`. */
export function stateReached(worker: SyncWorker, state: SyncState): Promise<void> {
  if (worker.status().state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const off = worker.onStateChange.on((change) => {
      if (change.state === state) {
        off();
        resolve();
      }
    });
  });
}

/** Resolves with the worker's progress once `predicate` holds (now or at a later report). */
export function progressReached(
  worker: SyncWorker,
  predicate: (progress: SyncProgress) => boolean,
): Promise<SyncProgress> {
  const now = worker.status();
  if (predicate(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const off = worker.onProgress.on((progress) => {
      if (predicate(progress)) {
        off();
        resolve(progress);
      }
    });
  });
}
