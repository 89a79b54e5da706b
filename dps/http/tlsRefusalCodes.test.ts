import { describe, expect, it } from 'vitest';
import type { DpsTlsRefusalKind } from '../dpsErrors.js';
import {
  NODE_TLS_REFUSAL_CODES,
  tlsRefusalNamedIn,
  tlsRefusalOfNodeCode,
} from './tlsRefusalCodes.js';

/**
 * Written out here, not read from the module: a code dropped from the list, or moved to another
 * kind, must fail this test rather than follow it.
 */
const EXPECTED: Record<string, DpsTlsRefusalKind> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted-issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted-issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted-issuer',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-issuer',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted-issuer',
  CERT_UNTRUSTED: 'untrusted-issuer',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_REJECTED: 'rejected',
  CERT_SIGNATURE_FAILURE: 'bad-signature',
};

describe('tlsRefusalOfNodeCode', () => {
  it.each(Object.entries(EXPECTED))('%s is a refusal of kind %s', (code, kind) => {
    expect(tlsRefusalOfNodeCode(code)).toEqual({ kind, nodeCode: code });
  });

  it('knows exactly those codes: a new one needs its kind checked here', () => {
    expect([...NODE_TLS_REFUSAL_CODES].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('takes no other failure for a certificate refusal, whatever its name', () => {
    for (const code of [undefined, '', 'ECONNREFUSED', 'ECONNRESET', 'EPROTO', 'toString']) {
      expect(tlsRefusalOfNodeCode(code)).toBeUndefined();
    }
    // Node's code for a handshake broken off, not a certificate refused: waiting may cure it.
    expect(tlsRefusalOfNodeCode('ERR_SSL_WRONG_VERSION_NUMBER')).toBeUndefined();
  });
});

describe('tlsRefusalNamedIn', () => {
  const row = (code: string) => `DPS_TLS_UNTRUSTED, POST /enrollments: ${code}: some text`;

  it("reads node's code back from a row's recorded text", () => {
    for (const [code, kind] of Object.entries(EXPECTED)) {
      expect(tlsRefusalNamedIn(row(code))).toEqual({ kind, nodeCode: code });
    }
  });

  it('takes the first code named, and only whole words', () => {
    expect(tlsRefusalNamedIn('CERT_REJECTED after CERT_HAS_EXPIRED')?.kind).toBe('rejected');
    expect(tlsRefusalNamedIn(row('XCERT_REJECTED'))).toBeUndefined();
    expect(tlsRefusalNamedIn(row('ECONNREFUSED'))).toBeUndefined();
    expect(tlsRefusalNamedIn('')).toBeUndefined();
  });
});
