import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfterMs } from './retryAfter.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfterMs('3', NOW)).toBe(3000);
    expect(parseRetryAfterMs(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfterMs('1.5', NOW)).toBe(1500);
    expect(parseRetryAfterMs(['7', '9'], NOW)).toBe(7000);
  });

  it('reads an HTTP date, never below zero', () => {
    expect(parseRetryAfterMs('Sun, 22 Nov 2026 10:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfterMs('Sun, 22 Nov 2026 09:59:00 GMT', NOW)).toBe(0);
  });

  it('caps at ten minutes', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(600_000);
    expect(parseRetryAfterMs('86400', NOW)).toBe(600_000);
    expect(parseRetryAfterMs('Mon, 23 Nov 2026 10:00:00 GMT', NOW)).toBe(600_000);
  });

  it('ignores what it cannot read', () => {
    for (const value of [undefined, '', 'soon', '-5', '1e3', 'Tuesday']) {
      expect(parseRetryAfterMs(value, NOW)).toBeUndefined();
    }
  });
});
