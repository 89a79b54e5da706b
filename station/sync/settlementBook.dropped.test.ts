// The sync worker's book of DPS's answers, when the store drops them: rows that are no longer
// `syncing` under the worker's claim (recovered by another process after a lost lease) must not
// be counted into the session nor told to the line's log.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF } from './backoff.js';
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
let troubles: SettledTrouble[];
let book: SettlementBook;
let session: SyncSession;

beforeEach(() => {
  station = new SyncTestStation();
  const now = () => station.clock.now();
  store = new OutboxSyncStore(station.db, now);
  const failures = new SyncFailures({
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

const created: Settlement = { kind: 'synced', how: 'created', etag: '"1"' };
const rejected: Settlement = { kind: 'failed', code: 'SYNC_DPS_REJECTED', detail: 'bad cert' };

describe('SettlementBook, for answers the store dropped', () => {
  it('counts and reports nothing when no row is syncing under its claim any more', () => {
    for (const serial of ['S1', 'F1']) station.provision(serial);
    const [s, f] = store.claim(2);
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
