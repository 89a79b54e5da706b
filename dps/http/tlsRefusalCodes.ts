import type { DpsTlsRefusal, DpsTlsRefusalKind } from '../dpsErrors.js';

/**
 * The one list of node's codes for a DPS server certificate the client refused, each with the
 * kind of refusal it is. The HTTPS client classifies with it when it meets the error; the station
 * reads the kind off the DpsError, and only text that outlived the error (an outbox row's
 * `last_error`) is read back through `tlsRefusalNamedIn`. A code not listed is no certificate
 * refusal: the client reports it as DPS_UNREACHABLE, which waiting may cure.
 */
const KIND_OF_NODE_CODE = {
  // The chain ends at no CA the station trusts.
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted-issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted-issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted-issuer',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-issuer',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted-issuer',
  CERT_UNTRUSTED: 'untrusted-issuer',
  // Node's own check of the name, after OpenSSL accepted the chain.
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_REJECTED: 'rejected',
  CERT_SIGNATURE_FAILURE: 'bad-signature',
} as const satisfies Record<string, DpsTlsRefusalKind>;

export type NodeTlsRefusalCode = keyof typeof KIND_OF_NODE_CODE;

/** Every node code the client takes for a refused server certificate. */
export const NODE_TLS_REFUSAL_CODES = Object.keys(KIND_OF_NODE_CODE) as NodeTlsRefusalCode[];

function isRefusalCode(code: string): code is NodeTlsRefusalCode {
  return Object.hasOwn(KIND_OF_NODE_CODE, code);
}

/** The refusal a node error code stands for; undefined when it is no certificate refusal. */
export function tlsRefusalOfNodeCode(code: string | undefined): DpsTlsRefusal | undefined {
  if (code === undefined || !isRefusalCode(code)) return undefined;
  return { kind: KIND_OF_NODE_CODE[code], nodeCode: code };
}

/**
 * The refusal a recorded text names by node's code, the first one it names: what the station has
 * of a refusal once the DpsError is gone (a row's `last_error`, read by another process).
 */
export function tlsRefusalNamedIn(text: string): DpsTlsRefusal | undefined {
  for (const word of text.match(/\b[A-Z][A-Z0-9_]*\b/g) ?? []) {
    const refusal = tlsRefusalOfNodeCode(word);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}
