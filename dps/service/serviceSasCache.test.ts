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
  it('signs for an hour and reuses the token until five minutes before expiry', () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const cache = new ServiceSasCache(connection, () => now);
    expect(cache.current).toBeUndefined();
    const first = cache.token();
    const fields = parseSasToken(first);
    expect(fields?.se).toBe(now / 1000 + 3600);
    expect(fields && sasSignatureMatches(fields, connection.sharedAccessKey)).toBe(true);
    expect(cache.current).toBe(first);

    now += 54 * 60 * 1000 + 59_000; // 5 min 1 s before expiry: still good
    expect(cache.token()).toBe(first);

    now += 1000; // exactly 5 min before expiry: renewed
    const second = cache.token();
    expect(second).not.toBe(first);
    expect(parseSasToken(second)?.se).toBe(now / 1000 + 3600);
  });

  it('renews after a clock jump past expiry', () => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const cache = new ServiceSasCache(connection, () => now);
    const first = cache.token();
    now += 3 * 3600 * 1000;
    expect(cache.token()).not.toBe(first);
  });
});
