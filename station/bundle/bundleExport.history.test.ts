/**
 * History of re-provisioned devices: an export carries the earlier enrollment of a device DPS may
 * still hold (sent, or carried by an earlier bundle), so the syncing machine can tell DPS's copy
 * ours. The first-export rules are in bundleExport.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { findNeedles, secretEncodings } from '../../certs/testing/secretNeedles.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { exportBundle, type ExportRequest } from './bundleExport.js';
import type { BundlePayload } from './bundlePayload.js';
import { NOW, exportRequest, openBundle, sha256 } from './testing/exportTestKit.js';

let station: SyncTestStation;
let file: string;

beforeEach(() => {
  station = new SyncTestStation();
  file = join(station.dir, 'outbox.bundle');
});
afterEach(() => station.close());

// Pinned as in bundleExport.test.ts, so both files export the same way.
function request(overrides: Partial<ExportRequest> = {}): ExportRequest {
  return exportRequest(station, file, { now: () => NOW, ...overrides });
}

function opened(path = file): Promise<BundlePayload> {
  return openBundle(path);
}

function setStatus(id: number, status: string): void {
  station.db.prepare(`UPDATE enrollments SET status = ? WHERE id = ?`).run(status, id);
}

const memberCount = () =>
  station.db.prepare(`SELECT count(*) FROM bundle_enrollments`).pluck().get();

describe('exportBundle: history of re-provisioned devices', () => {
  it('carries an earlier enrollment that was sent, not one that never was', async () => {
    const sent = station.provision('X1');
    station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(sent);
    const neverSent = station.provision('X1');
    const live = station.provision('X1');
    const yEarlier = station.provision('Y1');
    station.db.prepare(`UPDATE enrollments SET attempts = 3 WHERE id = ?`).run(yEarlier);
    station.provision('Y1');
    // Z1 was sent and re-provisioned too, but its live row is synced: not carried, no history.
    const zEarlier = station.provision('Z1');
    station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(zEarlier);
    setStatus(station.provision('Z1'), 'synced');

    const summary = await exportBundle(request());

    const payload = await opened();
    expect(payload.history.map((h) => h.id)).toEqual([sent, yEarlier]);
    expect(payload.history.find((h) => h.id === sent)).toMatchObject({
      registrationId: 'reg-x1',
      attempts: 1,
      supersededBy: neverSent,
      body: station.row(sent).body,
      bodySha256: sha256(station.row(sent).body),
      serialNumber: 'X1',
    });
    expect(payload.history.some((h) => h.id === neverSent)).toBe(false);
    expect(payload.enrollments.map((e) => e.id)).toContain(live);
    expect(summary.history).toBe(2);
    // History rows are recorded as carried, but they are superseded: nothing to flag.
    expect(memberCount()).toBe(4);
    expect(station.row(sent)).toMatchObject({ status: 'superseded', needsReconcile: 0 });
  });

  it('carries an earlier enrollment that went in an earlier bundle, sent or not', async () => {
    const earlier = station.provision('X1');
    await exportBundle(request());
    const live = station.provision('X1');

    const second = join(station.dir, 'second.bundle');
    const summary = await exportBundle(request({ file: second }));

    const payload = await opened(second);
    expect(payload.enrollments.map((e) => e.id)).toEqual([live]);
    expect(payload.history).toMatchObject([{ id: earlier, attempts: 0, supersededBy: live }]);
    expect(summary).toMatchObject({ enrollments: 1, history: 1 });
  });

  it('opens a symmetric key of a carried earlier enrollment too', async () => {
    const oldKey = randomBytes(32);
    const earlier = await station.provisionSymmetric('SK1', oldKey);
    station.db.prepare(`UPDATE enrollments SET attempts = 1 WHERE id = ?`).run(earlier);
    station.provision('SK1'); // re-provisioned with an X.509 identity
    const caSecrets = vi.fn(() => Promise.resolve(station.openSecret));

    await exportBundle(request({ caSecrets }));

    expect(caSecrets).toHaveBeenCalledTimes(1);
    const [entry] = (await opened()).history;
    expect(entry!.id).toBe(earlier);
    expect(Buffer.from(entry!.symmetricKey!, 'base64')).toEqual(oldKey);
    expect(findNeedles(file, readFileSync(file), secretEncodings('old key', oldKey))).toEqual([]);
  });
});
