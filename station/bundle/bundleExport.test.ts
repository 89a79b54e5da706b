/**
 * The first export: what a bundle carries, its symmetric keys, and the file and record it leaves.
 * Export over time is in bundleExport.again.test.ts, history of re-provisioned devices in
 * bundleExport.history.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealedText } from '../../certs/custody/secretBox.js';
import { findNeedles, secretEncodings } from '../../certs/testing/secretNeedles.js';
import { symmetricKeySealContext } from '../line/attestation/symmetricKey.js';
import type { OpenSecret } from '../sync/enrollmentRequest.js';
import { OutboxSyncStore } from '../sync/outboxSyncStore.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportBundle, type ExportRequest } from './bundleExport.js';
import type { BundlePayload } from './bundlePayload.js';
import { openPayload } from './bundleSeal.js';
import { NOW, bundleWrapper, exportRequest, openBundle, sha256 } from './testing/exportTestKit.js';

// The cap is MAX_BUNDLE_ENROLLMENTS rows; a test lowers it rather than provision that many.
const cap = vi.hoisted(() => ({ lowered: undefined as number | undefined }));
vi.mock('./bundlePayload.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./bundlePayload.js')>();
  return {
    ...actual,
    get MAX_BUNDLE_ENROLLMENTS() {
      return cap.lowered ?? actual.MAX_BUNDLE_ENROLLMENTS;
    },
  };
});

let station: SyncTestStation;
let file: string;

beforeEach(() => {
  station = new SyncTestStation();
  file = join(station.dir, 'outbox.bundle');
  cap.lowered = undefined;
});
afterEach(() => station.close());

// The clock is pinned so the bundle's times and its record can be compared with NOW.
function request(overrides: Partial<ExportRequest> = {}): ExportRequest {
  return exportRequest(station, file, { now: () => NOW, ...overrides });
}

function opened(path = file): Promise<BundlePayload> {
  return openBundle(path);
}

function setStatus(id: number, status: string): void {
  station.db.prepare(`UPDATE enrollments SET status = ? WHERE id = ?`).run(status, id);
}

const bundleCount = () => station.db.prepare(`SELECT count(*) FROM bundles`).pluck().get();
const memberCount = () =>
  station.db.prepare(`SELECT count(*) FROM bundle_enrollments`).pluck().get();
const flagged = () =>
  station
    .rows()
    .filter((r) => r.needsReconcile === 1)
    .map((r) => r.id);

describe('exportBundle: what it carries', () => {
  it('carries exactly the pending rows, oldest first, with body hash, serial and model', async () => {
    const first = station.provision('A1');
    const synced = station.provision('S1');
    const failed = station.provision('F1');
    const conflict = station.provision('C1');
    const syncing = station.provision('Y1');
    station.provision('R1'); // superseded below, never sent: DPS cannot hold it
    const reworked = station.provision('R1');
    const last = station.provision('B1');
    setStatus(synced, 'synced');
    setStatus(failed, 'failed');
    setStatus(conflict, 'conflict');
    setStatus(syncing, 'syncing');

    const summary = await exportBundle(request());

    expect(summary).toEqual({
      bundleId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      file,
      enrollments: 3,
      history: 0,
      byAttestation: { 'x509-device-key': 3 },
      left: 0,
      retirements: 0,
      retirementsLeft: 0,
      revocations: 0,
      membersWaiting: 0,
    });
    const payload = await opened();
    expect(payload.enrollments.map((e) => e.id)).toEqual([first, reworked, last]);
    expect(payload.history).toEqual([]);
    for (const entry of payload.enrollments) {
      const row = station.row(entry.id);
      expect(entry).toEqual({
        id: row.id,
        registrationId: row.registrationId,
        attestation: 'x509-device-key',
        body: row.body,
        bodySha256: sha256(row.body),
        attempts: 0,
        needsReconcile: false,
        serialNumber: row.registrationId.slice('reg-'.length).toUpperCase(),
        model: 'LS-100',
        createdAt: expect.any(String),
      });
    }
    expect(
      station.db
        .prepare(
          `SELECT bundle_id AS bundleId, enrollment_id AS id, body_sha256 AS sha,
            sends_received AS sends FROM bundle_enrollments ORDER BY enrollment_id`,
        )
        .all(),
    ).toEqual(
      payload.enrollments.map((e) => ({
        bundleId: summary.bundleId,
        id: e.id,
        sha: e.bodySha256,
        sends: 0,
      })),
    );
    expect(station.db.prepare(`SELECT * FROM bundles`).all()).toEqual([
      {
        id: summary.bundleId,
        created_at: NOW.toISOString(),
        file,
        enrollments: 3,
        retirements: 0,
        written_at: NOW.toISOString(),
        received_at: null,
        receipt: null,
        lost_at: null,
        lost_by: null,
        dps_host: null,
      },
    ]);
  });

  it('writes a new file that opens with the bundle passphrase, and only with it', async () => {
    station.provision('A1');
    const summary = await exportBundle(request());

    const text = readFileSync(file, 'utf8');
    const { header, payload } = await openPayload(text, 'bundle', bundleWrapper);
    expect(header).toEqual({
      kind: 'bundle',
      bundleId: summary.bundleId,
      writtenAt: NOW.toISOString(),
    });
    expect(payload).toMatchObject({
      format: 'line-station/outbox-bundle',
      version: 1,
      bundleId: summary.bundleId,
      createdAt: NOW.toISOString(),
      source: { dataDir: station.dir },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stranger = new PassphraseKeyWrapper('another passphrase', { scrypt: { N: 1024 } });
    await expect(openPayload(text, 'bundle', stranger)).rejects.toMatchObject({
      code: 'BUNDLE_WRONG_PASSPHRASE',
    });
  });

  it('takes the oldest rows up to the cap and says how many are left', async () => {
    cap.lowered = 2;
    const ids = ['A1', 'A2', 'A3', 'A4', 'A5'].map((serial) => station.provision(serial));
    const summary = await exportBundle(request());
    expect(summary).toMatchObject({ enrollments: 2, left: 3 });
    expect((await opened()).enrollments.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(flagged()).toEqual(ids.slice(0, 2));
  });

  it('leaves for the next bundle a row whose earlier enrollments would not fit beside it', async () => {
    cap.lowered = 2;
    const sent = (id: number) =>
      station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(id);
    for (const serial of ['A1', 'A1', 'B1']) sent(station.provision(serial));
    const a = station.provision('A1'); // two earlier, sent
    const b = station.provision('B1'); // one earlier, sent: three would not fit in 2
    const summary = await exportBundle(request());
    expect(summary).toMatchObject({ enrollments: 1, history: 2, left: 1 });
    expect((await opened()).enrollments.map((e) => e.id)).toEqual([a]);
    expect(b).toBeGreaterThan(a);
  });

  it('refuses an outbox with nothing pending, and writes no file', async () => {
    await expect(exportBundle(request())).rejects.toMatchObject({
      code: 'BUNDLE_NOTHING_PENDING',
    });
    setStatus(station.provision('A1'), 'synced');
    await expect(exportBundle(request())).rejects.toMatchObject({
      code: 'BUNDLE_NOTHING_PENDING',
    });
    expect(existsSync(file)).toBe(false);
    expect(bundleCount()).toBe(0);
  });
});

describe('exportBundle: symmetric keys', () => {
  it('carries the device key inside the seal, never in the file text', async () => {
    const key = randomBytes(32);
    const id = await station.provisionSymmetric('SK1', key);
    station.provision('X1');
    const contexts: string[] = [];
    const handedOut: Uint8Array[] = [];
    const recording: OpenSecret = async (sealed, context) => {
      contexts.push(context);
      const bytes = await station.openSecret(sealed, context);
      handedOut.push(bytes);
      return bytes;
    };
    const caSecrets = vi.fn(() => Promise.resolve(recording));

    const summary = await exportBundle(request({ caSecrets }));

    expect(summary.byAttestation).toEqual({ 'symmetric-key-individual': 1, 'x509-device-key': 1 });
    expect(caSecrets).toHaveBeenCalledTimes(1);
    expect(contexts).toEqual([symmetricKeySealContext('reg-sk1')]);
    // The opened bytes are wiped once encoded into the payload.
    expect(handedOut[0]!.every((b) => b === 0)).toBe(true);
    const entry = (await opened()).enrollments.find((e) => e.id === id)!;
    expect(Buffer.from(entry.symmetricKey!, 'base64')).toEqual(key);
    const content = readFileSync(file);
    expect(content.toString('utf8')).not.toContain(key.toString('base64'));
    expect(content.toString('utf8')).not.toContain(key.toString('hex'));
    expect(findNeedles(file, content, secretEncodings('device key', key))).toEqual([]);
    // Nor does the station's record of the bundle hold it.
    expect(JSON.stringify(station.db.prepare(`SELECT * FROM bundles`).all())).not.toContain(
      key.toString('base64'),
    );
  });

  it('exports an X.509-only outbox without asking for the CA passphrase', async () => {
    station.provision('X1');
    station.provisionGroupMember('G1', 'group-1');
    const caSecrets = vi.fn(() => Promise.reject(new Error('no CA passphrase here')));
    const summary = await exportBundle(request({ caSecrets }));
    expect(caSecrets).not.toHaveBeenCalled();
    expect(summary.byAttestation).toEqual({ 'x509-device-key': 1, 'symmetric-key-group': 1 });
    expect((await opened()).enrollments.every((e) => e.symmetricKey === undefined)).toBe(true);
  });

  it('refuses with BUNDLE_SECRET_LOCKED when the CA passphrase is wrong: no file, no bundle', async () => {
    station.provision('X1');
    const id = await station.provisionSymmetric('SK1', randomBytes(32));
    const wrong = new PassphraseKeyWrapper('not the CA passphrase', { scrypt: { N: 1024 } });

    const refused = exportBundle(request({ caSecrets: async () => sealedText(wrong).open }));

    await expect(refused).rejects.toMatchObject({
      code: 'BUNDLE_SECRET_LOCKED',
      detail: `enrollment ${id}: CUSTODY_WRONG_PASSPHRASE`,
    });
    expect(existsSync(file)).toBe(false);
    expect(bundleCount()).toBe(0);
    expect(memberCount()).toBe(0);
    expect(flagged()).toEqual([]);
    expect(station.store.audit('outbox.bundle-exported')).toEqual([]);
  });
});

describe('exportBundle: the file and the record', () => {
  it('refuses a file that exists already and leaves it as it was', async () => {
    station.provision('X1');
    writeFileSync(file, 'a receipt not yet carried\n');
    await expect(exportBundle(request())).rejects.toMatchObject({ code: 'BUNDLE_FILE_EXISTS' });
    expect(readFileSync(file, 'utf8')).toBe('a receipt not yet carried\n');
    expect(bundleCount()).toBe(0);
    expect(flagged()).toEqual([]);
  });

  it('removes the file again when the station refuses to record the bundle', async () => {
    station.provision('X1');
    station.db.exec(`CREATE TRIGGER refuse_bundles BEFORE INSERT ON bundles
      BEGIN SELECT RAISE(ABORT, 'disk full, say'); END`);
    await expect(exportBundle(request())).rejects.toThrow('disk full, say');
    expect(existsSync(file)).toBe(false);
    expect(memberCount()).toBe(0);
    expect(flagged()).toEqual([]);
  });

  it('flags the carried rows to be read from DPS first, and leaves them pending', async () => {
    const carried = station.provision('A1');
    const sentBefore = station.provision('A2');
    station.db.prepare(`UPDATE enrollments SET attempts = 2 WHERE id = ?`).run(sentBefore);
    const synced = station.provision('S1');
    setStatus(synced, 'synced');

    await exportBundle(request());

    expect(station.row(carried)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(station.row(sentBefore)).toMatchObject({ status: 'pending', attempts: 2 });
    expect(flagged()).toEqual([carried, sentBefore]);
    expect(station.store.outboxCounts()).toMatchObject({ pending: 2, synced: 1 });
  });

  it('does not flag a row the worker settled while the export waited for the CA passphrase', async () => {
    const x509 = station.provision('X1');
    const symmetric = await station.provisionSymmetric('SK1', randomBytes(32));
    const worker = new OutboxSyncStore(station.db, () => station.clock.now());
    const caSecrets = async () => {
      const [claimed] = worker.claim(1);
      worker.settle([[claimed!, { kind: 'synced', how: 'created', etag: '"e"' }]]);
      return station.openSecret;
    };

    await exportBundle(request({ caSecrets }));

    // It went in the bundle (its receipt will find it settled), but it is done here.
    expect((await opened()).enrollments.map((e) => e.id)).toEqual([x509, symmetric]);
    expect(station.row(x509)).toMatchObject({ status: 'synced', needsReconcile: 0 });
    expect(station.row(symmetric)).toMatchObject({ status: 'pending', needsReconcile: 1 });
  });

  it('appends an outbox.bundle-exported audit event', async () => {
    station.provision('A1');
    const summary = await exportBundle(request());
    expect(station.store.audit('outbox.bundle-exported')).toEqual([
      {
        id: expect.any(Number),
        at: NOW.toISOString(),
        actor: 'supervisor:ana',
        kind: 'outbox.bundle-exported',
        subject: summary.bundleId,
        detail: { file, enrollments: 1, history: 0, retirements: 0 },
      },
    ]);
  });
});
