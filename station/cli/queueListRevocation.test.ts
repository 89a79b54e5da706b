import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { passedRun, recordIssuedCertificate } from '../store/testing/provisioningFixtures.js';
import { ca } from './caCommand.js';
import { queue } from './queueCommand.js';
import { useCaStation } from './testing/caStation.js';

const station = useCaStation();
const databaseFile = (): string => join(station.dataDir, 'station.db');

/** A committed device whose enrollment DPS took, as the sync worker leaves it. */
function syncedEnrollment(): { serial: string; rowId: number } {
  const db = openStationDatabase(databaseFile());
  try {
    const store = new ProvisioningStore(db);
    const runId = store.beginRun('/dev/ttyUSB1', 'line7', Date.now(), 'auto');
    recordIssuedCertificate(db, `c-${runId}`, `reg-${runId}`);
    store.commitPass(passedRun(runId, 'SN-1', { registrationId: `reg-${runId}` }));
    const [row] = store.listOutbox({ limit: 1 });
    db.prepare(`UPDATE enrollments SET status = 'synced', attempts = 1 WHERE id = ?`).run(row!.id);
    return { serial: `c-${runId}`, rowId: row!.id };
  } finally {
    db.close();
  }
}

async function listed(): Promise<string> {
  station.output = [];
  expect(await queue(['list', '--data-dir', station.dataDir])).toBe(0);
  return station.output.join('\n');
}

describe('station queue list: a revoked certificate’s enrollment', () => {
  it('keeps its status and says what became of it in DPS, in the list and the export', async () => {
    const { serial, rowId } = syncedEnrollment();
    expect(await listed()).not.toContain('revoked');
    expect(await ca(['revoke', serial, '--reason', 'stolen', '--data-dir', station.dataDir])).toBe(
      0,
    );

    const afterRevoke = await listed();
    // Its status is what DPS was told; the note says what becomes of it there.
    expect(afterRevoke).toMatch(/ synced {2,}/);
    expect(afterRevoke).toContain(
      '(certificate revoked; in DPS: to be disabled at the next sync or bundle)',
    );

    // The worker tried once and DPS did not answer; then it disabled the record.
    const db = openStationDatabase(databaseFile());
    db.prepare(`UPDATE revocation_disables SET tries = 1, note = 'DPS unreachable'`).run();
    db.close();
    expect(await listed()).toContain(
      '(certificate revoked; in DPS: to be disabled at the next sync or bundle; last try: DPS unreachable)',
    );
    const settled = openStationDatabase(databaseFile());
    settled
      .prepare(
        `UPDATE revocation_disables SET state = 'disabled', note = NULL,
        settled_at = '2026-12-07T10:00:00.000Z'`,
      )
      .run();
    settled.close();
    expect(await listed()).toContain('(certificate revoked; in DPS: disabled)');

    const reader = openStationDatabase(databaseFile());
    try {
      const store = new ProvisioningStore(reader);
      expect(store.listOutbox().find((e) => e.id === rowId)).toMatchObject({
        status: 'synced',
        revocation: 'disabled',
        revocationSettledAt: '2026-12-07T10:00:00.000Z',
        revocationNote: null,
      });
      const csv = store.exportOutboxCounted('csv').text.split('\r\n');
      expect(csv[0]).toMatch(/,revocation,revocation_settled_at,revocation_note$/);
      expect(csv[1]).toMatch(/,disabled,2026-12-07T10:00:00\.000Z,$/);
    } finally {
      reader.close();
    }
  });
});
