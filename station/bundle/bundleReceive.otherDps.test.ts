// applyReceipt and the DPS a receipt names: every receipt of a bundle with DPS's answers must
// come from the DPS its first such receipt came from. A bundle synced to the wrong DPS (the
// emulator, a staging instance) must not settle its rows, nor have them counted settled when the
// right receipt comes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceiptPayload } from './bundlePayload.js';
import { listBundles } from './bundleList.js';
import type { SyncTestStation } from '../sync/testing/syncTestStation.js';
import {
  LATER,
  ReceiptTestKit,
  answer,
  counts,
  receipt,
  stillPending,
  synced,
} from './testing/receiptTestKit.js';

const LINE_DPS = 'line.azure-devices-provisioning.net';
const STAGING_DPS = 'staging.azure-devices-provisioning.net';

let kit: ReceiptTestKit;
let station: SyncTestStation;

beforeEach(() => {
  kit = new ReceiptTestKit();
  station = kit.station;
});
afterEach(() => kit.close());

/** `payload` as the syncing machine writes it after a sync to `dpsHost`. */
function from(dpsHost: string, payload: ReceiptPayload): ReceiptPayload {
  return { ...payload, dpsHost };
}

/**
 * Two rows exported in one bundle, and the receipt of its sync to the line's DPS: S1 synced, P1
 * still pending.
 */
async function lineReceipt() {
  const s = station.provision('S1');
  const p = station.provision('P1');
  const bundle = await kit.exported();
  const first = from(
    LINE_DPS,
    receipt(bundle, [answer(bundle, s, 1, synced), answer(bundle, p, 1, stillPending)]),
  );
  return { s, p, bundle, first };
}

/** Everything a receipt may change: the outbox rows, what the bundle noted, and the audit. */
function everything(): unknown {
  return {
    rows: station.rows(),
    bundles: station.db.prepare('SELECT * FROM bundles').all(),
    members: station.db.prepare('SELECT * FROM bundle_enrollments').all(),
    audit: station.store.audit(),
  };
}

describe('applyReceipt: the DPS each receipt names', () => {
  it('refuses, changing nothing, a receipt of the bundle from another DPS than its first', async () => {
    const { s, p, bundle, first } = await lineReceipt();
    expect(kit.apply(first)).toMatchObject(counts({ synced: 1, stillPending: 1 }));
    expect(listBundles(station.db)).toMatchObject([{ id: bundle.bundleId, dpsHost: LINE_DPS }]);
    const before = everything();

    // The same bundle synced again, to staging: it answers both rows.
    const staging = from(
      STAGING_DPS,
      receipt(
        bundle,
        [
          answer(bundle, s, 1, { ...synced, etag: '"staging"' }),
          answer(bundle, p, 2, { ...synced, etag: '"staging"' }),
        ],
        '2026-03-03T20:00:00.000Z',
      ),
    );
    let refusal: unknown;
    try {
      kit.apply(staging, LATER);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({
      code: 'BUNDLE_OTHER_DPS',
      detail: expect.stringContaining(bundle.bundleId),
    });
    const message = (refusal as Error).message;
    expect(message).toContain(`DPS ${STAGING_DPS}`);
    expect(message).toContain(`came from DPS ${LINE_DPS}`);
    expect(message).toContain(`sync to ${LINE_DPS}`);
    expect(message).toContain('`queue list`');
    expect(everything()).toEqual(before);
    expect(station.row(p)).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('applies later receipts from the first DPS as before, its name in any letter case', async () => {
    const { s, p, bundle, first } = await lineReceipt();
    kit.apply(first);
    expect(() => kit.apply(from(STAGING_DPS, first), LATER)).toThrow(
      expect.objectContaining({ code: 'BUNDLE_OTHER_DPS' }),
    );

    // The same receipt again, then the next sync's to the same DPS, its name as typed there.
    expect(kit.apply(first, LATER)).toMatchObject(counts({ alreadySettled: 1, stillPending: 1 }));
    const next = from(
      LINE_DPS.toUpperCase(),
      receipt(
        bundle,
        [answer(bundle, s, 1, synced), answer(bundle, p, 2, { ...synced, etag: '"p-2"' })],
        '2026-03-03T20:00:00.000Z',
      ),
    );
    expect(kit.apply(next, LATER)).toMatchObject(counts({ synced: 1, alreadySettled: 1 }));
    expect(station.row(p)).toMatchObject({ status: 'synced', etag: '"p-2"', attempts: 2 });
    // The first receipt's host stays the bundle's, as it was written.
    expect(listBundles(station.db)).toMatchObject([{ dpsHost: LINE_DPS }]);
    // Newest first.
    expect(station.store.audit('outbox.bundle-received').map((e) => e.detail.dpsHost)).toEqual([
      LINE_DPS.toUpperCase(),
      LINE_DPS,
      LINE_DPS,
    ]);
  });

  it('records no DPS for a bundle until a receipt of it is applied', async () => {
    station.provision('S1');
    const bundle = await kit.exported();
    expect(listBundles(station.db)).toMatchObject([{ id: bundle.bundleId, dpsHost: null }]);
    expect(kit.bundleRow(bundle.bundleId)).toEqual({ receivedAt: null, receipt: null });
  });
});
