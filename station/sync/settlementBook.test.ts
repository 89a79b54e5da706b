// The sync worker's book of DPS's answers on their way into the outbox, against a real station
// database: what it records and counts, what it tells the line's log, and what it keeps when the
// database refuses. The worker's suites (syncWorker.*.test.ts) cover it in its loop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../store/storeError.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import type { OutboxRow } from './enrollmentRequest.js';
import { OutboxSyncStore, type Settlement } from './outboxSyncStore.js';
import { SettlementBook } from './settlementBook.js';
import type { SettledTrouble } from './settledTrouble.js';
import { DPS_RATE_LIMIT, SlidingWindowLimiter } from './slidingWindowLimiter.js';
import { SyncFailures } from './syncFailures.js';
import { SyncNowRequests } from './syncNowRequests.js';
import { emptySession, type SyncSession } from './syncTypes.js';
import { SyncTestStation } from './testing/syncTestStation.js';

let station: SyncTestStation;
let store: OutboxSyncStore;
let failures: SyncFailures;
let troubles: SettledTrouble[];
let book: SettlementBook;
let session: SyncSession;

beforeEach(() => {
  station = new SyncTestStation();
  const now = () => station.clock.now();
  store = new OutboxSyncStore(station.db, now);
  failures = new SyncFailures({
    clock: station.clock,
    backoff: DEFAULT_BACKOFF,
    random: () => 0.5,
    limiter: new SlidingWindowLimiter(DPS_RATE_LIMIT, station.clock),
    syncNowRequests: new SyncNowRequests(),
  });
  troubles = [];
  book = new SettlementBook({ store, failures, now, onTrouble: (t) => troubles.push(t) });
  session = emptySession();
});
afterEach(() => station.close());

/** Rows provisioned for `serials` and claimed by the worker, in that order. */
function claimed(...serials: string[]): OutboxRow[] {
  for (const serial of serials) station.provision(serial);
  return store.claim(serials.length);
}

const created: Settlement = { kind: 'synced', how: 'created', etag: '"1"' };
const byGroup: Settlement = { kind: 'synced', how: 'confirmed-by-group' };
const rejected: Settlement = { kind: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'bad cert' };
const conflict = (registrationId: string): Settlement => ({
  kind: 'conflict',
  detail: 'DPS holds other credentials',
  dpsRecord: { registrationId, attestation: { type: 'tpm' } },
});
const retry = (at: number): Settlement => ({
  kind: 'retry',
  code: 'SYNC_DPS_RETRY',
  detail: 'throttled',
  at,
  reconcile: false,
});

/** The database takes no write (as a read-only file or a full disk refuses one) until `fn` ends. */
function refusingWrites(fn: () => void): void {
  station.db.pragma('query_only = ON');
  try {
    fn();
  } finally {
    station.db.pragma('query_only = OFF');
  }
}

describe('SettlementBook', () => {
  it('waits to record only between an answer added and its record', () => {
    const [row] = claimed('SN1');
    expect(book.waiting).toBe(false);

    book.add([[row!, created]]);
    expect(book.waiting).toBe(true);

    book.record(session);
    expect(book.waiting).toBe(false);
  });

  it('records each answer on its row', () => {
    const [s, f, c, r] = claimed('S1', 'F1', 'C1', 'R1');

    book.add([
      [s!, created],
      [f!, rejected],
      [c!, conflict(c!.registrationId)],
      [r!, retry(station.clock.now() + 60_000)],
    ]);
    book.record(session);

    expect(station.statuses()).toEqual(['synced', 'failed', 'conflict', 'pending']);
    expect(station.row(s!.id).etag).toBe('"1"');
    expect(station.row(r!.id).lastErrorCode).toBe('SYNC_DPS_RETRY');
  });

  it('counts what DPS settled into the session, group members among the synced, and retries not at all', () => {
    const [s, g, f, c, r] = claimed('S1', 'G1', 'F1', 'C1', 'R1');
    session.synced = 3;

    book.add([
      [s!, created],
      [g!, byGroup],
      [f!, rejected],
      [c!, conflict(c!.registrationId)],
      [r!, retry(station.clock.now())],
    ]);
    book.record(session);
    book.record(session);

    expect(session).toEqual({
      ...emptySession(),
      synced: 5,
      groupConfirmed: 1,
      failed: 1,
      conflicts: 1,
    });
  });

  it('tells the line’s log of the rows that wait for a supervisor, once, when recorded', () => {
    const [s, f, c, r] = claimed('S1', 'F1', 'C1', 'R1');

    book.add([
      [s!, created],
      [f!, rejected],
      [c!, conflict(c!.registrationId)],
      [r!, retry(station.clock.now())],
    ]);
    expect(troubles).toEqual([]);
    book.record(session);
    book.record(session);

    expect(troubles).toEqual([
      {
        settled: 3,
        conflicts: ['reg-c1'],
        failed: [{ registrationId: 'reg-f1', code: 'SYNC_DPS_REJECTED' }],
        at: new Date(station.clock.now()).toISOString(),
      },
    ]);
  });

  it('tells the line’s log nothing when every answer is a success or a retry', () => {
    const [s, r] = claimed('S1', 'R1');

    book.add([
      [s!, created],
      [r!, retry(station.clock.now())],
    ]);
    book.record(session);

    expect(troubles).toEqual([]);
  });

  it('keeps what the database refused to record, its rows still syncing, and records it at the next look', () => {
    const [s, c] = claimed('S1', 'C1');
    book.add([
      [s!, created],
      [c!, conflict(c!.registrationId)],
    ]);

    refusingWrites(() => expect(() => book.record(session)).toThrow(/readonly/));
    expect(book.waiting).toBe(true);
    expect(station.statuses()).toEqual(['syncing', 'syncing']);
    expect(session).toEqual(emptySession());
    expect(troubles).toEqual([]);

    book.record(session);
    expect(station.statuses()).toEqual(['synced', 'conflict']);
    expect(session).toMatchObject({ synced: 1, conflicts: 1 });
    expect(troubles).toHaveLength(1);
  });

  it('ends the database refusal the worker reported once it records rows', () => {
    const [row] = claimed('SN1');
    failures.failed(new StoreError('STORE_WRITE_FAILED', 'database or disk is full'));
    expect(failures.lastError?.code).toBe('SYNC_STORE_FAILED');

    book.add([[row!, created]]);
    book.record(session);

    expect(failures.lastError).toBeUndefined();
  });

  it('ends no refusal at a look with nothing to record: it wrote nothing', () => {
    failures.failed(new StoreError('STORE_WRITE_FAILED', 'database or disk is full'));

    book.record(session);

    expect(failures.lastError?.code).toBe('SYNC_STORE_FAILED');
  });

  it('gives up what it dropped: the rows stay syncing, to be read back from DPS at the next start', () => {
    const [row] = claimed('SN1');
    book.add([[row!, created]]);

    book.drop();
    book.record(session);

    expect(book.waiting).toBe(false);
    expect(station.row(row!.id).status).toBe('syncing');
    expect(session).toEqual(emptySession());
  });
});

describe('SettlementBook, for answers the store dropped', () => {
  it('counts and reports nothing when no row is syncing under its claim any more', () => {
    const [s, f] = claimed('S1', 'F1');
    // Another process took the lease and put the rows back (recoverInterrupted), mid-batch.
    expect(store.recoverInterrupted()).toBe(2);

    book.add([
      [s!, created],
      [f!, rejected],
    ]);
    book.record(session);

    expect(station.statuses()).toEqual(['pending', 'pending']);
    expect(session).toEqual(emptySession());
    expect(troubles).toEqual([]);
    expect(book.waiting).toBe(false);
  });
});
