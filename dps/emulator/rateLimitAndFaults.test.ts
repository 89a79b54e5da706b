import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type DpsEmulator, type DpsEmulatorOptions, startDpsEmulator } from './dpsEmulator.js';
import { call, registerDevice } from './emulatorTestKit.js';
import { FaultInjector } from './faultInjector.js';
import { FixedWindowRateLimiter } from './rateLimiter.js';

let emulator: DpsEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: DpsEmulatorOptions): Promise<DpsEmulator> {
  emulator = await startDpsEmulator(options);
  return emulator;
}

const enrollment = (registrationId: string) => ({
  registrationId,
  attestation: { type: 'symmetricKey' },
});

describe('rate limits (fixed windows)', () => {
  it('answers 429 with Retry-After past the limit, then admits calls in the next window', async () => {
    const dps = await start({ rateLimit: false });
    // A fresh window starts now; seven quick calls fit well inside its 500 ms.
    dps.setRateLimit({ operationsPerWindow: 5, windowMs: 500 });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      statuses.push((await call(dps, 'GET', `/enrollments/dev-${i}`)).status);
    }
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
    const refused = await call(dps, 'GET', '/enrollments/dev-x');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['x-ms-error-code']).toBe('429001');
    expect(refused.body).toMatchObject({ errorCode: 429001 });
    // Honour Retry-After as a client would: the next window has begun by then.
    await delay(Number(refused.headers['retry-after']) * 1000);
    expect((await call(dps, 'GET', '/enrollments/dev-y')).status).toBe(404);
    expect(dps.stats()).toMatchObject({ throttled429: 3, operations: 6 });
  });

  it('limits register calls separately and changes the limit live', async () => {
    const dps = await start({
      rateLimit: { operationsPerWindow: 100, windowMs: 60_000, registrationsPerWindow: 1 },
    });
    const created = await call(dps, 'PUT', '/enrollments/dev-r', { body: enrollment('dev-r') });
    const key = (created.body as { attestation: { symmetricKey: { primaryKey: string } } })
      .attestation.symmetricKey.primaryKey;
    expect((await registerDevice(dps, 'dev-r', { key })).final?.status).toBe(200);
    const second = await registerDevice(dps, 'dev-r', { key });
    expect(second.register.status).toBe(429);
    expect(Number(second.register.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect((await call(dps, 'GET', '/enrollments/dev-r')).status).toBe(200);

    dps.setRateLimit({ operationsPerWindow: 1, windowMs: 60_000 });
    expect((await call(dps, 'GET', '/enrollments/dev-r')).status).toBe(200);
    expect((await call(dps, 'GET', '/enrollments/dev-r')).status).toBe(429);
    dps.setRateLimit(false);
    expect((await call(dps, 'GET', '/enrollments/dev-r')).status).toBe(200);
    expect(dps.stats().throttled429).toBe(2);
  });

  it('counts with a fake clock: window boundaries and Retry-After rounding', () => {
    let now = 1_000;
    const limiter = new FixedWindowRateLimiter(
      { operationsPerWindow: 2, windowMs: 2500 },
      () => now,
    );
    expect(limiter.admit(['operations']).admitted).toBe(true);
    expect(limiter.admit(['operations']).admitted).toBe(true);
    now += 100;
    expect(limiter.admit(['operations'])).toEqual({ admitted: false, retryAfterSeconds: 3 });
    now += 2300;
    expect(limiter.admit(['operations'])).toEqual({ admitted: false, retryAfterSeconds: 1 });
    now += 100;
    expect(limiter.admit(['operations']).admitted).toBe(true);
  });
});

describe('injected faults', () => {
  it('serverErrorRate 1: answers 500/503 with a DPS body and applies nothing', async () => {
    const dps = await start({ rateLimit: false, faults: { serverErrorRate: 1 } });
    for (let i = 0; i < 4; i += 1) {
      const reply = await call(dps, 'PUT', `/enrollments/dev-${i}`, {
        body: enrollment(`dev-${i}`),
      });
      expect([500, 503]).toContain(reply.status);
      expect(String((reply.body as { errorCode: number }).errorCode)).toMatch(/^50[03]\d{3}$/);
    }
    dps.setFaults({});
    expect(dps.stats()).toMatchObject({ enrollments: 0, injected: { serverErrors: 4 } });
  });

  it('throttleRate 1: answers 429 with Retry-After and applies nothing', async () => {
    const dps = await start({ rateLimit: false, faults: { throttleRate: 1 } });
    const reply = await call(dps, 'PUT', '/enrollments/dev-t', { body: enrollment('dev-t') });
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('1');
    expect(dps.stats()).toMatchObject({
      enrollments: 0,
      throttled429: 1,
      injected: { throttles: 1 },
    });
  });

  it('resetRate 1: destroys every socket, applying about half of the requests first', async () => {
    const dps = await start({ rateLimit: false, faults: { resetRate: 1, seed: 7 } });
    const total = 20;
    for (let i = 0; i < total; i += 1) {
      await expect(
        call(dps, 'PUT', `/enrollments/dev-${i}`, { body: enrollment(`dev-${i}`) }),
      ).rejects.toThrow(/socket hang up|ECONNRESET/);
    }
    dps.setFaults({});
    const stats = dps.stats();
    expect(stats.injected.resets).toBe(total);
    // Applied-then-reset requests really created their enrollments.
    expect(stats.enrollments).toBeGreaterThan(0);
    expect(stats.enrollments).toBeLessThan(total);
    const listed = await call(dps, 'POST', '/enrollments/query', { body: { query: '*' } });
    expect((listed.body as unknown[]).length).toBe(stats.enrollments);
  });

  it('latencyMs delays every answer', async () => {
    const dps = await start({ rateLimit: false, faults: { latencyMs: 150 } });
    const started = performance.now();
    expect((await call(dps, 'GET', '/enrollments/nobody')).status).toBe(404);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('draws the same decisions from the same seed', () => {
    const sequence = (seed: number) => {
      const injector = new FaultInjector({
        serverErrorRate: 0.3,
        resetRate: 0.3,
        throttleRate: 0.3,
        seed,
      });
      return Array.from({ length: 50 }, () => injector.decide());
    };
    expect(sequence(42)).toEqual(sequence(42));
    expect(sequence(42)).not.toEqual(sequence(43));
    expect(new Set(sequence(42))).toEqual(
      new Set([
        'none',
        'serverError500',
        'serverError503',
        'throttle',
        'resetBefore',
        'resetAfter',
      ]),
    );
  });
});
