import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSasToken, sasSignatureMatches } from '../auth/sas.js';
import { ServiceSasCache } from './serviceSasCache.js';

const connection = {
  hostName: 'Line.azure-devices-provisioning.net',
  sharedAccessKeyName: 'provisioningserviceowner',
  sharedAccessKey: randomBytes(32).toString('base64'),
};

describe('ServiceSasCache', () => {
  it('signs for an hour and reuses the token for five minutes only', () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const cache = new ServiceSasCache(connection, () => now);
    expect(cache.current).toBeUndefined();
    const first = cache.token();
    const fields = parseSasToken(first);
    expect(fields?.se).toBe(now / 1000 + 3600);
    expect(cache.expiresAtMs).toBe(now + 3600_000);
    expect(fields && sasSignatureMatches(fields, connection.sharedAccessKey)).toBe(true);
    expect(cache.current).toBe(first);

    now += 4 * 60 * 1000 + 59_000; // 4 min 59 s of use: still good
    expect(cache.token()).toBe(first);

    now += 1000; // 5 min of use: renewed, though 55 min of its life remain
    const second = cache.token();
    expect(second).not.toBe(first);
    expect(parseSasToken(second)?.se).toBe(now / 1000 + 3600);
  });

  it('renews after its clock jumps past expiry, or back before it signed', () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const cache = new ServiceSasCache(connection, () => now);
    const first = cache.token();
    now += 3 * 3600 * 1000;
    const second = cache.token();
    expect(second).not.toBe(first);
    now -= 2 * 3600 * 1000; // signed by a clock that ran ahead: it would live three hours
    const third = cache.token();
    expect(third).not.toBe(second);
    now -= 30_000; // the Date header's whole seconds: no churn
    expect(cache.token()).toBe(third);
  });
});
