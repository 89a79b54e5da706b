import type Database from 'better-sqlite3';
import type { DpsServiceApi } from '../../dps/service/serviceTypes.js';
import type { BackoffPolicy } from './backoff.js';
import type { OpenSecret } from './enrollmentRequest.js';
import type { GroupKeyFingerprints } from './groupKeyFingerprint.js';
import type { RateLimit } from './slidingWindowLimiter.js';
import type { SyncClock } from './syncClock.js';

/** What a SyncWorker is made of (syncWorker.ts); kept apart so the worker reads as its loop. */
export interface SyncWorkerOptions {
  /** The station database (migrations up to 003 applied). */
  db: Database.Database;
  /** The DPS service API: DpsServiceClient over HTTPS, or a stand-in. */
  dps: DpsServiceApi;
  /** Opens the sealed symmetric keys of symmetric-key-individual rows. */
  openSecret: OpenSecret;
  /**
   * The fingerprints of the station's enrollment group keys, to confirm in DPS the group of each
   * symmetric-key group member. Without them group members wait (SYNC_GROUP_KEY_UNAVAILABLE).
   */
  groupKeys?: GroupKeyFingerprints;
  /** DPS operations allowed per window; default 1000 per 60 s. Every call counts. */
  limit?: RateLimit;
  /** Batches in flight at once; default 4. The limiter gates every call regardless. */
  concurrency?: number;
  /** Retry backoff; default base 1 s, cap 5 min. */
  backoff?: Partial<BackoffPolicy>;
  /** How often an idle worker looks for new pending rows; default 5 s (`notify()` is sooner). */
  pollIntervalMs?: number;
  clock?: SyncClock;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
}
