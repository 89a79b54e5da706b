import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealedText, sealSecret } from '../../certs/custody/secretBox.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import type { OpenSecret } from './enrollmentRequest.js';
import { progressReached, SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;

beforeEach(() => {
  station = new SyncTestStation();
});
afterEach(() => station.close());

/** Every file of the database (main and WAL), as text, to look for a key in clear. */
function databaseText(): string {
  station.db.pragma('wal_checkpoint(PASSIVE)');
  return ['station.db', 'station.db-wal']
    .map((name) => {
      try {
        return readFileSync(join(station.dir, name)).toString('latin1');
      } catch {
        return '';
      }
    })
    .join('');
}

describe('SyncWorker: symmetric keys', () => {
  it('sends the unsealed key only in the request, and zeroes the key bytes after use', async () => {
    const key = randomBytes(32);
    const keyBase64 = key.toString('base64');
    const id = await station.provisionSymmetric('SK1', key);
    const opened: Uint8Array[] = [];
    const contexts: string[] = [];
    const recordingOpen: OpenSecret = async (sealed, context) => {
      contexts.push(context);
      const bytes = await station.openSecret(sealed, context);
      opened.push(bytes);
      return bytes;
    };
    const worker = station.worker({ openSecret: recordingOpen });
    worker.start();
    await worker.syncNow();

    const [bulk] = station.dps.callsOf('bulkEnrollments');
    expect(bulk!.enrollments![0]!.attestation).toEqual({
      type: 'symmetricKey',
      symmetricKey: { primaryKey: keyBase64 },
    });
    expect(station.dps.held('reg-sk1')!.attestation.symmetricKey!.primaryKey).toBe(keyBase64);
    expect(station.row(id).status).toBe('synced');
    expect(contexts).toEqual(['line-station/dps/symmetric-key/reg-sk1']);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.length).toBe(32);
    expect(opened[0]!.every((b) => b === 0)).toBe(true);
    expect(databaseText()).not.toContain(keyBase64);
    expect(JSON.stringify(worker.status())).not.toContain(keyBase64);
  });

  it('refuses an empty key without calling DPS', async () => {
    const id = await station.provisionSymmetric('SK1', randomBytes(32));
    const worker = station.worker({ openSecret: async () => new Uint8Array(0) });
    worker.start();
    await worker.syncNow();
    expect(station.row(id)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_SECRET_MISSING',
    });
    expect(station.dps.calls).toHaveLength(0);
    expect(station.store.audit('enrollment.sync-failed')[0]!.detail).toMatchObject({
      code: 'SYNC_SECRET_MISSING',
    });
  });

  it('refuses a row whose sealed key is gone, and one sealed for another device', async () => {
    const gone = await station.provisionSymmetric('SK1', randomBytes(32));
    station.db.prepare(`UPDATE enrollments SET sealed_secret = NULL WHERE id = ?`).run(gone);
    const other = await station.provisionSymmetric('SK2', randomBytes(32));
    const elsewhere = await sealSecret(
      randomBytes(32),
      station.wrapper,
      symmetricKeySealContext('reg-sk3'),
    );
    station.db
      .prepare(`UPDATE enrollments SET sealed_secret = ? WHERE id = ?`)
      .run(JSON.stringify(elsewhere), other);
    const fine = station.provision('X1');
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    expect(station.row(gone)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_SECRET_MISSING',
    });
    expect(station.row(other)).toMatchObject({
      status: 'failed',
      lastErrorCode: 'SYNC_SECRET_UNREADABLE',
    });
    expect(station.row(fine).status).toBe('synced');
    expect(station.dps.calls.flatMap((c) => c.registrationIds)).toEqual(['reg-x1']);
  });

  it('keeps the row pending while the station cannot open its keys', async () => {
    const id = await station.provisionSymmetric('SK1', randomBytes(32));
    const wrong = new PassphraseKeyWrapper('not the passphrase', { scrypt: { N: 1024 } });
    const worker = station.worker({
      openSecret: sealedText(wrong).open,
    });
    worker.start();
    await progressReached(worker, (p) => p.state === 'backoff');
    expect(station.row(id)).toMatchObject({
      status: 'pending',
      lastErrorCode: 'SYNC_SECRET_LOCKED',
      lastError: expect.stringContaining('CUSTODY_WRONG_PASSPHRASE'),
    });
    expect(station.dps.calls).toHaveLength(0);
  });

  it('reads the key back through the attestation call when DPS withholds it on GET', async () => {
    const id = await station.provisionSymmetric('SK1', randomBytes(32));
    station.dps.failNext('bulkEnrollments', { kind: 'reset', applied: true });
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_OFFLINE' });
    await worker.syncNow();

    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'bulkEnrollments',
      'getEnrollment',
      'getEnrollmentAttestation',
    ]);
    expect(station.row(id)).toMatchObject({ status: 'synced', syncNote: 'found in DPS' });
  });

  it('creates the enrollment when DPS deletes it between the read and the attestation read', async () => {
    const id = await station.provisionSymmetric('SK1', randomBytes(32));
    station.dps.failNext('bulkEnrollments', { kind: 'reset', applied: true });
    const worker = station.worker();
    worker.start();
    await expect(worker.syncNow()).rejects.toMatchObject({ code: 'SYNC_OFFLINE' });
    const attestationRead = station.dps.holdNext('getEnrollmentAttestation');
    const synced = worker.syncNow();
    await attestationRead.reached;
    station.dps.deleteEnrollment('reg-sk1');
    attestationRead.release();
    await synced;

    expect(station.dps.calls.map((c) => c.method)).toEqual([
      'bulkEnrollments',
      'getEnrollment',
      'getEnrollmentAttestation',
      'deleteEnrollment',
      'bulkEnrollments',
    ]);
    expect(station.row(id).status).toBe('synced');
    expect(station.dps.held('reg-sk1')).toBeDefined();
  });

  it('keeps no key of DPS in a conflict record, even when DPS sends keys on GET', async () => {
    station.dps.withholdKeysOnGet = false;
    const theirKey = randomBytes(32).toString('base64');
    station.dps.seed({
      registrationId: 'reg-sk1',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: theirKey } },
    });
    const id = await station.provisionSymmetric('SK1', randomBytes(32));
    const worker = station.worker();
    worker.start();
    await worker.syncNow();

    const row = station.row(id);
    expect(row.status).toBe('conflict');
    expect(JSON.parse(row.dpsRecord!).attestation).toEqual({
      type: 'symmetricKey',
      symmetricKey: {},
    });
    expect(databaseText()).not.toContain(theirKey);
  });
});
