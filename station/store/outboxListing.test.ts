import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealSecret, type KeyWrapper } from '../../certs/custody/secretBox.js';
import type { PassedRunRecord } from '../line/lineTypes.js';
import { ProvisioningStore } from './provisioningStore.js';
import { openStationDatabase } from './stationDatabase.js';
import { passedRun, recordIssuedCertificate } from './testing/provisioningFixtures.js';

/** Wraps with a fixed key: the store never opens a sealed secret, it only must not list it. */
const testWrapper: KeyWrapper = {
  kind: 'passphrase',
  wrap: async (dataKey) => ({ kind: 'passphrase', blob: Buffer.from(dataKey).toString('base64') }),
  unwrap: async () => new Uint8Array(32),
};

let db: Database.Database;
let store: ProvisioningStore;
let sealed: string;

beforeEach(async () => {
  db = openStationDatabase(':memory:');
  store = new ProvisioningStore(db, { now: () => new Date('2026-03-01T10:00:00.000Z') });
  const secret = await sealSecret(new Uint8Array(32).fill(7), testWrapper, 'dps/device-key');
  sealed = JSON.stringify(secret);
  provision('SN-1');
  provision('SN-2, rev "B"\nlot 4');
  provision('SN-3', {
    attestation: 'symmetric-key-individual',
    certificateSerial: undefined,
    enrollment: { attestation: { type: 'symmetricKey' } },
    sealedSecret: sealed,
  });
  provision('SN-4');
  const set = db.prepare(
    `UPDATE enrollments SET status = ?, last_error = ?, attempts = ? WHERE id = ?`,
  );
  set.run('failed', 'DPS said "no", retry\r\nlater', 3, 2);
  set.run('synced', null, 1, 4);
});
afterEach(() => db.close());

function provision(serial: string, overrides: Partial<PassedRunRecord> = {}): void {
  const runId = store.beginRun('p', 'line7', 1_000);
  const record = passedRun(runId, serial, { registrationId: `reg-${runId}`, ...overrides });
  if (record.certificateSerial) {
    recordIssuedCertificate(db, record.certificateSerial, record.registrationId);
  }
  store.commitPass(record);
}

describe('outbox listing', () => {
  it('counts enrollments per status', () => {
    expect(store.outboxCounts()).toEqual({
      pending: 2,
      syncing: 0,
      synced: 1,
      failed: 1,
      conflict: 0,
    });
  });

  it('lists pages in id order, by status, and never the sealed secret', () => {
    const all = store.listOutbox();
    expect(all.map((e) => [e.id, e.status])).toEqual([
      [1, 'pending'],
      [2, 'failed'],
      [3, 'pending'],
      [4, 'synced'],
    ]);
    expect(store.listOutbox({ status: 'pending' }).map((e) => e.id)).toEqual([1, 3]);
    expect(store.listOutbox({ limit: 2, afterId: 1 }).map((e) => e.id)).toEqual([2, 3]);
    expect(store.listOutbox({ status: 'pending', afterId: 1 }).map((e) => e.id)).toEqual([3]);
    expect(all[2]).toMatchObject({
      serialNumber: 'SN-3',
      attestation: 'symmetric-key-individual',
      hasSealedSecret: true,
      enrollment: { attestation: { type: 'symmetricKey' } },
    });
    expect(all[0]?.hasSealedSecret).toBe(false);
    const ciphertext = (JSON.parse(sealed) as { ciphertext: string }).ciphertext;
    expect(JSON.stringify(all)).not.toContain(ciphertext);
    expect(store.exportOutboxCounted('json').text).not.toContain(ciphertext);
    expect(store.exportOutboxCounted('csv').text).not.toContain(ciphertext);
    // The sealed secret is in the table, only not in listings.
    expect(db.prepare(`SELECT sealed_secret FROM enrollments WHERE id = 3`).pluck().get()).toBe(
      sealed,
    );
  });

  it('exports CSV with a header row and RFC 4180 quoting', () => {
    const csv = store.exportOutboxCounted('csv', { status: 'failed' }).text;
    const body = JSON.stringify(passedRun(2, 'x', { registrationId: 'reg-2' }).enrollment);
    expect(csv).toBe(
      'id,registration_id,serial_number,model,run_id,attestation,status,attempts,last_error,' +
        'etag,created_at,updated_at,superseded_by,has_sealed_secret,enrollment,' +
        'last_error_code,next_attempt_at,synced_at,dps_record,retirement,retired_at,retire_note,' +
        'revocation,revocation_settled_at,revocation_note\r\n' +
        '2,reg-2,"SN-2, rev ""B""\nlot 4",LS-100,2,x509-device-key,failed,3,' +
        '"DPS said ""no"", retry\r\nlater",,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z,,' +
        `false,"${body.replaceAll('"', '""')}",,,,,,,,,,\r\n`,
    );
    expect(store.exportOutboxCounted('csv', { status: 'conflict' }).text).toMatch(
      /^id,[^\n]*dps_record,retirement,retired_at,retire_note,revocation,[^\n]*\r\n$/,
    );
    const [header, ...rows] = parseCsv(store.exportOutboxCounted('csv').text);
    expect(rows.map((r) => r.length)).toEqual([25, 25, 25, 25]);
    expect(rows.map((r) => [r[2], r[8], JSON.parse(r[14]!)])).toEqual(
      store.listOutbox().map((e) => [e.serialNumber, e.lastError ?? '', e.enrollment]),
    );
    expect(header?.[0]).toBe('id');
  });

  it('writes a device or DPS text that a spreadsheet would run as a formula as plain text', () => {
    provision('=HYPERLINK("http://x.invalid","Click")');
    db.prepare(`UPDATE enrollments SET last_error = ? WHERE id = 5`).run('@SUM(A1:A9)');
    const [, , , , , fifth] = parseCsv(store.exportOutboxCounted('csv').text);
    expect([fifth![2], fifth![8]]).toEqual([
      '\'=HYPERLINK("http://x.invalid","Click")',
      "'@SUM(A1:A9)",
    ]);
    // The JSON export keeps the values exactly, for machines.
    const json = JSON.parse(store.exportOutboxCounted('json').text) as { serialNumber: string }[];
    expect(json[4]!.serialNumber).toBe('=HYPERLINK("http://x.invalid","Click")');
  });

  it("shows what the sync worker recorded: its code, the retry time, DPS's side of a conflict", () => {
    db.prepare(
      `UPDATE enrollments SET status = 'conflict', last_error_code = 'SYNC_CONFLICT',
       last_error = 'other credentials', dps_record = ? WHERE id = 1`,
    ).run(JSON.stringify({ registrationId: 'reg-1', attestation: { type: 'x509' } }));
    db.prepare(
      `UPDATE enrollments SET next_attempt_at = '2026-03-01T10:05:00.000Z' WHERE id = 3`,
    ).run();
    const [conflict] = store.listOutbox({ status: 'conflict' });
    expect(conflict).toMatchObject({
      lastErrorCode: 'SYNC_CONFLICT',
      dpsRecord: { registrationId: 'reg-1', attestation: { type: 'x509' } },
      syncedAt: null,
    });
    expect(store.listOutbox({ status: 'pending' }).map((e) => e.nextAttemptAt)).toEqual([
      '2026-03-01T10:05:00.000Z',
    ]);
    expect(store.exportOutboxCounted('csv', { status: 'conflict' }).text).toContain(
      ',SYNC_CONFLICT,,,',
    );
  });

  it('exports JSON as the listing, all rows unless limited', () => {
    const json = JSON.parse(store.exportOutboxCounted('json').text) as unknown[];
    expect(json).toEqual(store.listOutbox());
    expect(JSON.parse(store.exportOutboxCounted('json', { limit: 1, afterId: 3 }).text)).toEqual([
      expect.objectContaining({ id: 4, serialNumber: 'SN-4', attempts: 1 }),
    ]);
  });
});

/** A strict RFC 4180 reader, to read the export back the way another tool would. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    i += 1;
    if (quoted && c === '"' && next === '"') {
      field += '"';
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(field);
      field = '';
    } else if (!quoted && c === '\r' && next === '\n') {
      rows.push([...row, field]);
      row = [];
      field = '';
      i += 1;
    } else {
      field += c;
    }
  }
  expect({ quoted, rest: field + row.join() }).toEqual({ quoted: false, rest: '' });
  return rows;
}
