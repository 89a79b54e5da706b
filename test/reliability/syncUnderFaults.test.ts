/**
 * Sync under faults: a 10,000-enrollment outbox drains completely into the DPS emulator while
 * about one call in five fails, and DPS ends up holding each enrollment exactly once.
 *
 * Real parts throughout: the outbox is a station database file filled through ProvisioningStore
 * (test/fixtures/syncOutbox.ts, one real leaf per row), the worker talks to the emulator through
 * DpsServiceClient over HTTPS on loopback, and the emulator injects seeded faults into every
 * call, bulk creates and read-backs alike:
 * - 500/503 answers, the request not applied (the worker cannot know that: it reads DPS back);
 * - connection resets, half of them AFTER the emulator applied the request;
 * - 429 + Retry-After. The emulator's Retry-After is always 1 s and the worker honours it for
 *   every lane (DPS throttles the whole service), so each 429 costs a second of waiting: the mix
 *   keeps them rare (0.25% of calls, about ten per run) to stay under a minute.
 * The worker's backoff is shortened to a 10 ms base and a 50 ms cap; there is no rate limit. On
 * a 2-core machine the file takes about 50 s: ~5 s to fill, ~40 s to drain (10 s of it Retry-After).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { mulberry32 } from '../../dps/emulator/faultInjector.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { SyncWorker } from '../../station/sync/syncWorker.js';
import { fillOutbox, outboxDrained, syncOutcome } from '../fixtures/syncOutbox.js';

const ENROLLMENTS = 10_000;
/** Drawn in this order per call: P(any fault) = 1 - 0.895 × 0.9975 × 0.895 ≈ 0.20. */
const FAULTS = { serverErrorRate: 0.105, throttleRate: 0.0025, resetRate: 0.105, seed: 0x5ca1ab1e };
/** A bound on the wait, not an expectation: a 2-core machine drains it in about 40 s. */
const DRAIN_TIMEOUT_MS = 150_000;

let dir: string;
let db: Database.Database;
let registrationIds: string[];
let emulator: DpsEmulator | undefined;
let client: DpsServiceClient | undefined;
let worker: SyncWorker | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sync-under-faults-'));
  const path = join(dir, 'station.db');
  ({ registrationIds } = await fillOutbox({ path, count: ENROLLMENTS, prefix: 'faulty' }));
  db = openStationDatabase(path);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  client?.close();
  await emulator?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sync under faults', () => {
  it(
    'syncs 10,000 enrollments through ~20% injected faults, each created in DPS exactly once',
    async () => {
      emulator = await startDpsEmulator({ rateLimit: false, faults: FAULTS });
      client = new DpsServiceClient({
        connectionString: emulator.serviceConnectionString,
        ca: emulator.caCertificatePem,
      });
      worker = new SyncWorker({
        db,
        dps: client,
        openSecret: () => Promise.reject(new Error('this outbox holds no sealed secrets')),
        limit: { operations: 1e9, windowMs: 1 },
        backoff: { baseMs: 10, capMs: 50 },
        random: mulberry32(7),
      });
      const drained = outboxDrained(worker, DRAIN_TIMEOUT_MS);
      const started = performance.now();
      worker.start();
      const progress = await drained;
      const seconds = (performance.now() - started) / 1000;

      expect(progress.counts).toEqual({
        pending: 0,
        syncing: 0,
        synced: ENROLLMENTS,
        failed: 0,
        conflict: 0,
      });
      const stats = emulator.stats();
      const outcome = await syncOutcome(db, emulator);
      expect(outcome.statuses).toEqual({ synced: ENROLLMENTS });
      expect(outcome.notHeld).toEqual([]);
      expect(outcome.wrongCredentials).toEqual([]);
      expect(outcome.notCreatedOnce).toEqual([]);
      expect(outcome.strangers).toEqual([]);

      expect(stats).toMatchObject({
        enrollments: ENROLLMENTS,
        enrollmentCreates: ENROLLMENTS,
        duplicateCreates: 0,
      });
      const createCounts = emulator.createCounts();
      expect([...createCounts.keys()].sort()).toEqual([...registrationIds].sort());
      expect([...createCounts.values()].every((n) => n === 1)).toBe(true);
      expect(stats.injected.serverErrors).toBeGreaterThan(0);
      expect(stats.injected.resets).toBeGreaterThan(0);
      expect(stats.injected.throttles).toBeGreaterThan(0);

      // A reset after DPS applied a bulk create leaves rows the station never heard about: the
      // worker read them back and found them instead of creating them again.
      const found = db
        .prepare(`SELECT count(*) FROM enrollments WHERE sync_note = 'found in DPS'`)
        .pluck()
        .get() as number;
      expect(found).toBeGreaterThan(0);
      console.log(
        `sync under faults: drained in ${seconds.toFixed(1)} s, ${stats.requests} requests, injected ${JSON.stringify(stats.injected)}, ${found} rows read back and found, ${progress.session.operations} worker calls`,
      );
    },
    DRAIN_TIMEOUT_MS + 30_000,
  );
});
