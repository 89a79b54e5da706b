/**
 * What ends a database refusal the sync worker reports. The end-to-end cases, with a real
 * sqlite3 holding the lock, are in syncWorker.storeRecovered.test.ts; this holds the rule that
 * only taking the write lock ends a lock and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from '../store/storeError.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { DPS_RATE_LIMIT, SlidingWindowLimiter } from './slidingWindowLimiter.js';
import { systemClock } from './syncClock.js';
import { SyncFailures } from './syncFailures.js';
import { SyncNowRequests } from './syncNowRequests.js';

function failures(): SyncFailures {
  return new SyncFailures({
    clock: systemClock,
    backoff: DEFAULT_BACKOFF,
    random: () => 0.5,
    limiter: new SlidingWindowLimiter(DPS_RATE_LIMIT, systemClock),
    syncNowRequests: new SyncNowRequests(),
  });
}

describe('SyncFailures, after the database refused', () => {
  it('ends a lock when the write lock is taken, even with no row written', () => {
    const books = failures();
    books.failed(new StoreError('STORE_BUSY', 'database is locked'));
    expect(books.lastError?.code).toBe('SYNC_STORE_BUSY');
    books.storeTookWrite('lock');
    expect(books.lastError).toBeUndefined();
  });

  it('keeps a full disk until rows are written: an empty claim takes the lock and writes nothing', () => {
    const books = failures();
    books.failed(new StoreError('STORE_WRITE_FAILED', 'database or disk is full'));
    expect(books.lastError?.code).toBe('SYNC_STORE_FAILED');
    books.storeTookWrite('lock');
    expect(books.lastError?.code).toBe('SYNC_STORE_FAILED');
    books.storeTookWrite('rows');
    expect(books.lastError).toBeUndefined();
  });
});
