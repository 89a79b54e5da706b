import { describe, expect, it } from 'vitest';
import { DpsError } from '../../dps/dpsErrors.js';
import { judgeFailure, needsAPerson } from './failurePolicy.js';
import { syncErrorText } from './syncErrors.js';
import { untrustedDpsText } from './tlsRefusal.js';

const backoff = { baseMs: 1_000, capMs: 300_000 };
const judged = (err: unknown) => judgeFailure(err, 1, backoff, () => 0.5);

/** The end-to-end cases, from a real handshake, are in tlsRefusal.test.ts. */
describe('judgeFailure, for a DPS certificate refused', () => {
  it('words the kind the DPS client classified, not whatever code its detail names', () => {
    const err = new DpsError('DPS_TLS_UNTRUSTED', {
      detail: 'GET /enrollments/x: CERT_HAS_EXPIRED: certificate has expired',
      tls: { kind: 'hostname', nodeCode: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    });
    const verdict = judged(err);
    expect(verdict).toMatchObject({ rowCode: 'SYNC_DPS_UNTRUSTED', offline: false });
    expect(verdict.error).toEqual({
      code: 'DPS_TLS_UNTRUSTED',
      message: untrustedDpsText('hostname'),
      detail: 'DPS_TLS_UNTRUSTED, GET /enrollments/x: CERT_HAS_EXPIRED: certificate has expired',
    });
    expect(needsAPerson(verdict)).toBe(true);
  });

  it('falls back to the text that cannot tell for a refusal that carries no kind', () => {
    const verdict = judged(new DpsError('DPS_TLS_UNTRUSTED', { detail: 'no kind given' }));
    expect(verdict.error.message).toBe(syncErrorText.SYNC_DPS_UNTRUSTED);
    expect(verdict.error.message).not.toBe(untrustedDpsText('untrusted-issuer'));
  });

  it("leaves a network failure to wait, in the DPS client's words", () => {
    const verdict = judged(new DpsError('DPS_UNREACHABLE', { detail: 'ECONNREFUSED' }));
    expect(verdict).toMatchObject({ rowCode: 'SYNC_OFFLINE', offline: true });
    expect(verdict.error.message).toMatch(/^DPS cannot be reached/);
    expect(needsAPerson(verdict)).toBe(false);
  });
});

describe('judgeFailure, for the Retry-After DPS sent', () => {
  const backoffMs = judged(new DpsError('DPS_SERVER_ERROR', { status: 500 })).holdMs;
  const answered = (code: 'DPS_THROTTLED' | 'DPS_SERVER_ERROR', retryAfterMs: number) =>
    judged(new DpsError(code, { status: code === 'DPS_THROTTLED' ? 429 : 503, retryAfterMs }));

  it('keeps the backoff when DPS asks for no wait (0, or a date already past)', () => {
    expect(backoffMs).toBeGreaterThan(0);
    expect(answered('DPS_THROTTLED', 0).holdMs).toBe(backoffMs);
    expect(answered('DPS_SERVER_ERROR', 0).holdMs).toBe(backoffMs);
  });

  it('waits as long as DPS asked when that is longer than the backoff', () => {
    expect(answered('DPS_THROTTLED', 60_000)).toMatchObject({
      holdMs: 60_000,
      rowCode: 'SYNC_DPS_RETRY',
    });
    expect(answered('DPS_SERVER_ERROR', backoffMs + 1).holdMs).toBe(backoffMs + 1);
  });
});
