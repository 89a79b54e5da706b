import { describe, expect, it } from 'vitest';
import { DpsError, dpsErrorCodeForStatus } from './dpsErrors.js';

describe('dpsErrorCodeForStatus', () => {
  it('reads only a refusal of the request itself as DPS_BAD_REQUEST', () => {
    for (const status of [400, 405, 413, 415, 422]) {
      expect(dpsErrorCodeForStatus(status), `HTTP ${status}`).toBe('DPS_BAD_REQUEST');
    }
  });

  it('keeps the statuses DPS sends for what they mean', () => {
    expect(
      [401, 403, 404, 408, 409, 412, 429, 500, 503].map((s) => dpsErrorCodeForStatus(s)),
    ).toEqual([
      'DPS_UNAUTHORIZED',
      'DPS_FORBIDDEN',
      'DPS_NOT_FOUND',
      'DPS_TIMEOUT',
      'DPS_CONFLICT',
      'DPS_PRECONDITION_FAILED',
      'DPS_THROTTLED',
      'DPS_SERVER_ERROR',
      'DPS_SERVER_ERROR',
    ]);
  });

  it('reads a proxy, a redirect or any status DPS does not send as retryable, not as a refusal', () => {
    // A proxy asking for a sign-in, redirects, and statuses no DPS answer carries.
    for (const status of [407, 301, 302, 307, 308, 402, 406, 410, 421, 431]) {
      const code = dpsErrorCodeForStatus(status);
      expect(code, `HTTP ${status}`).toBe('DPS_UNEXPECTED_STATUS');
      expect(new DpsError(code, { status }).retryable, `HTTP ${status}`).toBe(true);
    }
  });
});
