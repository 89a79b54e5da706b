import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { base64KeyNeedles, filesNow, search } from '../../certs/testing/secretNeedles.js';
import type { IndividualEnrollment } from '../../dps/service/serviceTypes.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { fakeCertificatePem } from '../sync/testing/syncTestStation.js';
import { InMemoryDps } from '../sync/testing/inMemoryDps.js';
import type { SyncProgress } from '../sync/syncTypes.js';
import {
  checkPayload,
  receiptPayloadSchema,
  type BundleEnrollment,
  type BundlePayload,
} from './bundlePayload.js';
import { openPayload } from './bundleSeal.js';
import { groupKeyFingerprint } from '../sync/groupKeyFingerprint.js';
import { sealReceipt, syncBundle, type SyncBundleOptions } from './bundleSync.js';
import type { RetryWait } from './bundleSyncWait.js';
import { bundleWorkStorePath, openBundleWorkStore } from './bundleWorkStore.js';
import {
  DPS_HOST,
  bundle,
  groupRow,
  sha256,
  symmetricRow,
  wrapper,
  x509Body,
  x509Row,
} from './testing/bundleSyncTestKit.js';

let dataDir: string;
let dps: InMemoryDps;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'bundle-sync-'));
  dps = new InMemoryDps();
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const certificateOf = (record: IndividualEnrollment | undefined) =>
  record?.attestation?.x509?.clientCertificates?.primary?.certificate;

const sync = (payload: BundlePayload, extra: Partial<SyncBundleOptions> = {}) =>
  syncBundle({ dataDir, payload, wrapper, dps, dpsHost: DPS_HOST, ...extra });
/** What every result of `row` says whatever its outcome. */
const answerOf = (row: BundleEnrollment, attempts: number) => {
  const { id, registrationId, bodySha256 } = row;
  return { id, registrationId, bodySha256, attempts };
};
const totalCreations = () => [...dps.creations.values()].reduce((a, b) => a + b, 0);

describe('syncBundle', () => {
  it('creates x509 and symmetric-key enrollments, with the carried key, and confirms group members by their group', async () => {
    const key = randomBytes(32).toString('base64');
    const groupKey = randomBytes(64);
    await dps.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'grp-1',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: groupKey.toString('base64') },
      },
    });
    const rows = [x509Row(7, 'SN1'), symmetricRow(9, 'SN2', key), groupRow(12, 'SN3', 'grp-1')];
    const payload = { ...bundle(rows), groupKeys: { 'grp-1': groupKeyFingerprint(groupKey) } };
    const progress: SyncProgress[] = [];
    const now = new Date('2026-03-02T08:00:00.000Z');
    const { receipt, summary } = await sync(payload, {
      onProgress: (p) => progress.push(p),
      now: () => now,
    });

    expect(summary).toEqual({ synced: 3, failed: 0, conflict: 0, pending: 0 });
    const { bundleId } = payload;
    expect(receipt).toMatchObject({ bundleId, writtenAt: now.toISOString(), dpsHost: DPS_HOST });
    expect(receipt.results).toEqual([
      { ...answerOf(rows[0]!, 1), outcome: 'synced', how: 'created' },
      { ...answerOf(rows[1]!, 1), outcome: 'synced', how: 'created' },
      {
        ...answerOf(rows[2]!, 1),
        outcome: 'synced',
        how: 'confirmed-by-group',
        note: "confirmed by enrollment group grp-1 in DPS (enabled, symmetric keys, the station's group key as its primary key)",
      },
    ]);
    expect(dps.held('reg-sn2')!.attestation.symmetricKey!.primaryKey).toBe(key);
    const sent = dps.callsOf('bulkEnrollments').flatMap((c) => c.enrollments ?? []);
    const sentKey = sent.find((e) => e.registrationId === 'reg-sn2')!.attestation.symmetricKey;
    expect(sentKey).toEqual({ primaryKey: key });
    const ourCertificate = certificateOf(JSON.parse(rows[0]!.body) as IndividualEnrollment);
    expect(certificateOf(dps.held('reg-sn1'))).toBe(ourCertificate);
    // Nothing was sent for the group member: DPS only showed its group.
    expect(dps.calls.flatMap((c) => c.registrationIds)).not.toContain('reg-sn3');
    expect(dps.calls.map((c) => c.method)).toContain('getEnrollmentGroupAttestation');
    expect(dps.size).toBe(2);
    expect(progress.at(-1)?.counts.synced).toBe(3);
  });

  it('returns pending rows and SYNC_OFFLINE when DPS is out of reach, and a second sync resumes without creating twice', async () => {
    const key = randomBytes(32).toString('base64');
    const payload = bundle([x509Row(1, 'SN1'), symmetricRow(2, 'SN2', key)]);
    // DPS applied the bulk create, but its answer never came back.
    dps.failNext('bulkEnrollments', { kind: 'timeout', applied: true });
    const first = await sync(payload);

    expect(first.summary).toMatchObject({ pending: 2, lastError: { code: 'SYNC_OFFLINE' } });
    expect(first.summary.lastError!.message).toMatch(/cannot be reached/);
    const pending = { outcome: 'pending', code: expect.stringMatching(/^SYNC_/) };
    expect(first.receipt.results).toEqual([
      { ...answerOf(payload.enrollments[0]!, 1), ...pending, detail: expect.any(String) },
      { ...answerOf(payload.enrollments[1]!, 1), ...pending, detail: expect.any(String) },
    ]);
    expect(JSON.stringify(first)).not.toContain(key);
    expect(totalCreations()).toBe(2);

    const second = await sync(payload);
    expect(second.summary).toEqual({ synced: 2, failed: 0, conflict: 0, pending: 0 });
    // Attempts count from export: the first sync's send and the second's read-back.
    const found = { outcome: 'synced', how: 'found', note: 'found in DPS', attempts: 2 };
    expect(second.receipt.results).toEqual([
      expect.objectContaining({ id: 1, ...found }),
      expect.objectContaining({ id: 2, ...found }),
    ]);
    expect(dps.creations.get('reg-sn1')! + dps.creations.get('reg-sn2')!).toBe(2);
    expect(dps.callsOf('bulkEnrollments')).toHaveLength(1);
    expect(dps.held('reg-sn2')!.attestation.symmetricKey!.primaryKey).toBe(key);
  });

  it('stops with SYNC_CREDENTIALS_REFUSED and reports the rows pending', async () => {
    dps.failNext('*', { kind: 'unauthorized' });
    const { receipt, summary } = await sync(bundle([x509Row(4, 'SN4')]));
    expect(summary).toMatchObject({ pending: 1, lastError: { code: 'SYNC_CREDENTIALS_REFUSED' } });
    const refused = { outcome: 'pending', code: 'SYNC_CREDENTIALS_REFUSED' };
    expect(receipt.results[0]).toMatchObject({ id: 4, ...refused });
    expect(dps.size).toBe(0);
  });

  it("reports a conflict with DPS's record when DPS holds the ID with another certificate", async () => {
    const theirs = dps.seed(x509Body('reg-sn1', fakeCertificatePem()));
    const { receipt, summary } = await sync(bundle([x509Row(5, 'SN1')]));
    expect(summary).toMatchObject({ conflict: 1, synced: 0 });
    const result = receipt.results[0]!;
    expect(result).toMatchObject({ id: 5, outcome: 'conflict', detail: /match neither/ });
    const dpsRecord = result.outcome === 'conflict' ? result.dpsRecord : undefined;
    expect(certificateOf(dpsRecord as IndividualEnrollment)).toBe(certificateOf(theirs));
    expect(dps.held('reg-sn1')).toEqual(theirs);
  });

  it('leaves out a DPS record nested deeper than a receipt carries, and still writes the receipt', async () => {
    let tags: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 20; level++) tags = { deeper: tags };
    dps.seed({
      ...x509Body('reg-sn1', fakeCertificatePem()),
      initialTwin: { tags },
    } as IndividualEnrollment);
    const { receipt } = await sync(bundle([x509Row(5, 'SN1')]));
    expect(receipt.results[0]).toMatchObject({ id: 5, outcome: 'conflict', dpsRecord: {} });
  });

  it('leaves out a DPS record larger than a receipt carries, and still writes the receipt', async () => {
    const huge = {
      ...x509Body('reg-sn1', fakeCertificatePem()),
      initialTwin: { tags: { blob: 'x'.repeat(70_000) } },
    };
    dps.seed(huge as IndividualEnrollment);
    const { receipt } = await sync(bundle([x509Row(5, 'SN1')]));
    expect(receipt.results[0]).toMatchObject({ id: 5, outcome: 'conflict', dpsRecord: {} });
  });

  it("reports a row DPS refused as failed, with DPS's error", async () => {
    dps.refuseItem = () => ({ errorCode: 400209, errorStatus: 'Invalid certificate' });
    const { receipt, summary } = await sync(bundle([x509Row(6, 'SN6')]));
    expect(summary).toMatchObject({ failed: 1 });
    const failed = { outcome: 'failed', code: 'SYNC_DPS_REJECTED' };
    expect(receipt.results[0]).toMatchObject({ id: 6, ...failed, dpsError: { errorCode: 400209 } });
  });

  it('replaces the earlier enrollment of a re-provisioned device that the history carries', async () => {
    const earlierCertificate = fakeCertificatePem();
    const earlierRow = x509Row(3, 'SN1', earlierCertificate);
    // The exporting station synced its earlier enrollment; DPS holds it.
    const before = dps.seed(x509Body('reg-sn1', earlierCertificate));
    const live = x509Row(8, 'SN1');
    const payload = bundle(
      [live],
      [
        // Never sent by the line itself (it went in an earlier bundle): DPS may still hold it.
        { ...earlierRow, registrationId: 'REG-SN1', attempts: 0, supersededBy: 8 },
        // An earlier enrollment of a device the bundle does not carry: nothing to compare it with.
        { ...x509Row(2, 'SN9'), attempts: 1, supersededBy: 99 },
      ],
    );
    const { receipt } = await sync(payload);

    const { etag } = dps.held('reg-sn1')!;
    const replaced = { outcome: 'synced', how: 'replaced', note: 'replaced in DPS', etag };
    expect(receipt.results).toEqual([{ ...answerOf(live, 1), ...replaced }]);
    expect(dps.callsOf('createOrUpdateEnrollment')[0]!.ifMatch).toBe(before.etag);
    expect(certificateOf(dps.held('reg-sn1'))).toBe(certificateOf(JSON.parse(live.body)));
    expect(totalCreations()).toBe(1); // the seed only

    const db = openStationDatabase(bundleWorkStorePath(dataDir, payload.bundleId, DPS_HOST));
    const rows = db.prepare(`SELECT id, status, superseded_by AS by FROM enrollments`).all();
    db.close();
    expect(rows).toEqual([
      { id: 3, status: 'superseded', by: 8 },
      { id: 8, status: 'synced', by: null },
    ]);
  });
});

describe('syncBundle, when DPS asks to retry an item of a bulk call', () => {
  const MINUTE = 60_000;
  /** Refuses `registrationId`'s item with `errorCode` while `refusing()` says so. */
  const refuseItem = (registrationId: string, errorCode: number, refusing = () => true) => {
    dps.refuseItem = (e) =>
      e.registrationId === registrationId && refusing()
        ? { errorCode, errorStatus: 'Try again later' }
        : undefined;
  };

  it.each([429001, 503001])(
    'waits for the retry time of an item refused with %i and ends it synced in the same sync',
    async (errorCode) => {
      const waits: RetryWait[] = [];
      // Refused until the sync waits: the worker itself retries a backoff drawn near zero.
      refuseItem('reg-sn2', errorCode, () => waits.length === 0);
      const rows = [x509Row(1, 'SN1'), x509Row(2, 'SN2')];
      const { receipt, summary } = await sync(bundle(rows), {
        backoff: { baseMs: 400, capMs: 400 },
        onWaiting: (wait) => waits.push(wait),
      });

      expect(summary).toEqual({ synced: 2, failed: 0, conflict: 0, pending: 0 });
      expect(receipt.results[1]).toMatchObject({ id: 2, outcome: 'synced' });
      expect(waits).toMatchObject([{ code: 'SYNC_DPS_RETRY', byDps: true }]);
      // The call that settled it was made once the retry time had come.
      expect(dps.calls.at(-1)!.at).toBeGreaterThanOrEqual(waits[0]!.until.getTime());
      expect(Object.fromEntries(dps.creations)).toEqual({ 'reg-sn1': 1, 'reg-sn2': 1 });
    },
  );

  it('does not wait for a retry time after retryWithinMs, and says when it falls', async () => {
    refuseItem('reg-sn1', 429001);
    const waits: RetryWait[] = [];
    const started = Date.now();
    const { receipt, summary } = await sync(bundle([x509Row(1, 'SN1')]), {
      backoff: { baseMs: 24 * 60 * MINUTE, capMs: 24 * 60 * MINUTE },
      retryWithinMs: 1_000,
      onWaiting: (wait) => waits.push(wait),
    });

    expect(summary).toMatchObject({ synced: 0, pending: 1, dpsRetryAt: expect.any(String) });
    expect(Date.parse(summary.dpsRetryAt!)).toBeGreaterThan(started + 1_000);
    expect(waits).toEqual([]);
    expect(receipt.results[0]).toMatchObject({ id: 1, outcome: 'pending', code: 'SYNC_DPS_RETRY' });
    expect(dps.callsOf('bulkEnrollments')).toHaveLength(1);
  });

  it('stops waiting when aborted and returns the row pending', async () => {
    refuseItem('reg-sn1', 503001);
    const aborter = new AbortController();
    const waits: RetryWait[] = [];
    const started = Date.now();
    const { receipt, summary } = await sync(bundle([x509Row(1, 'SN1')]), {
      backoff: { baseMs: 5 * MINUTE, capMs: 5 * MINUTE },
      signal: aborter.signal,
      onWaiting: (wait) => {
        waits.push(wait);
        aborter.abort();
      },
    });

    // Promptly: the wait it was told to stop could have lasted up to five minutes.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(waits).toHaveLength(1);
    expect(summary).toMatchObject({ pending: 1, dpsRetryAt: waits[0]!.until.toISOString() });
    expect(receipt.results[0]).toMatchObject({ id: 1, outcome: 'pending', code: 'SYNC_DPS_RETRY' });
  });
});

describe('syncBundle, when DPS holds off a whole call', () => {
  it('waits out a short Retry-After, says until when, and ends synced', async () => {
    dps.failNext('bulkEnrollments', { kind: 'throttle', retryAfterMs: 300 });
    const waits: RetryWait[] = [];
    const { summary } = await sync(bundle([x509Row(1, 'SN1')]), {
      onWaiting: (wait) => waits.push(wait),
    });
    expect(summary).toEqual({ synced: 1, failed: 0, conflict: 0, pending: 0 });
    expect(waits).toMatchObject([{ byDps: true }]);
  });

  it('does not sit out a Retry-After beyond retryWithinMs: the receipt goes with the row pending', async () => {
    dps.failNext('bulkEnrollments', { kind: 'throttle', retryAfterMs: 60 * 60_000 });
    const waits: RetryWait[] = [];
    const started = Date.now();
    const { receipt, summary } = await sync(bundle([x509Row(1, 'SN1')]), {
      retryWithinMs: 2_000,
      onWaiting: (wait) => waits.push(wait),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(waits).toEqual([]);
    expect(summary).toMatchObject({ synced: 0, pending: 1, dpsRetryAt: expect.any(String) });
    expect(receipt.results[0]).toMatchObject({ id: 1, outcome: 'pending' });
  });
});

describe('the bundle work store', () => {
  it('holds no carried symmetric key in clear, open or after the sync', async () => {
    const keys = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const payload = bundle([symmetricRow(1, 'SN1', keys[0]!), symmetricRow(2, 'SN2', keys[1]!)]);
    const needles = keys.flatMap((k, i) => base64KeyNeedles(`key ${i}`, k));
    const folder = join(dataDir, 'bundles');
    // The search finds a key where there is one.
    expect(
      search([{ where: 'payload', content: Buffer.from(JSON.stringify(payload)) }], needles),
    ).not.toEqual([]);

    const db = await openBundleWorkStore(dataDir, payload, wrapper, DPS_HOST);
    const sealed = db.prepare(`SELECT sealed_secret FROM enrollments ORDER BY id`).pluck().all();
    expect(sealed).toEqual([expect.stringMatching(/sealed-secret/), expect.any(String)]);
    // Read while open: the rows are in the -wal file then.
    const open = filesNow(folder, 'open');
    expect(open.map((f) => f.where)).toContainEqual(expect.stringMatching(/\.db-wal$/));
    expect(search(open, needles)).toEqual([]);
    db.close();

    await sync(payload);
    expect(search(filesNow(folder, 'after sync'), needles)).toEqual([]);
  });

  it('refuses a work store that holds another body, or other enrollments, under the bundle ID', async () => {
    const payload = bundle([x509Row(1, 'SN1')]);
    await sync(payload);
    const calls = dps.calls.length;

    const otherBody = { ...payload, enrollments: [x509Row(1, 'SN1')] };
    await expect(sync(otherBody)).rejects.toMatchObject({
      code: 'BUNDLE_WORK_MISMATCH',
      detail: 'enrollment 1 holds another body in the work store',
    });
    const more = { ...payload, enrollments: [payload.enrollments[0]!, x509Row(2, 'SN2')] };
    await expect(sync(more)).rejects.toMatchObject({ code: 'BUNDLE_WORK_MISMATCH' });
    expect(dps.calls.length).toBe(calls);
    // Refused and closed, the same bundle still syncs from its work store.
    expect((await sync(payload)).summary.synced).toBe(1);
  });

  it('keeps one work store per DPS: a bundle synced to the wrong DPS first is sent to the right one', async () => {
    const payload = bundle([x509Row(1, 'SN1')]);
    await sync(payload, { dpsHost: 'wrong.azure-devices-provisioning.net' });
    const right = new InMemoryDps();
    const { summary, receipt } = await syncBundle({
      dataDir,
      payload,
      wrapper,
      dps: right,
      dpsHost: DPS_HOST,
    });
    expect(summary.synced).toBe(1);
    expect(receipt.results[0]).toMatchObject({ outcome: 'synced', how: 'created' });
    expect(right.size).toBe(1);
  });

  it('names one work store per DPS however its host is written', () => {
    const path = (host: string) => bundleWorkStorePath(dataDir, 'b', host);
    expect(path('DPS.example.net')).toBe(path('dps.example.net:443'));
    expect(path('dps.example.net.')).toBe(path('dps.example.net'));
    expect(path('127.0.0.1:8443')).toBe(join(dataDir, 'bundles', 'b@127.0.0.1_8443.db'));
  });

  it('refuses a payload whose body does not match its hash before writing anything', async () => {
    const row = x509Row(1, 'SN1');
    const payload = bundle([{ ...row, bodySha256: sha256('{}') }]);
    await expect(sync(payload)).rejects.toMatchObject({ code: 'BUNDLE_CORRUPT' });
    expect(existsSync(bundleWorkStorePath(dataDir, payload.bundleId, DPS_HOST))).toBe(false);
    expect(dps.calls).toHaveLength(0);
  });
});

describe('sealReceipt', () => {
  it('seals a receipt that opens as a receipt and fits the receipt schema', async () => {
    const { receipt } = await sync(bundle([x509Row(1, 'SN1'), groupRow(2, 'SN2', 'grp-1')]));
    const text = await sealReceipt(receipt, wrapper);
    const opened = await openPayload(text, 'receipt', wrapper);
    const { bundleId, writtenAt } = receipt;
    expect(opened.header).toEqual({ kind: 'receipt', bundleId, writtenAt });
    expect(checkPayload(receiptPayloadSchema, opened.payload, 'receipt')).toEqual(receipt);
    const asBundle = openPayload(text, 'bundle', wrapper);
    await expect(asBundle).rejects.toMatchObject({ code: 'BUNDLE_WRONG_KIND' });
  });
});
