import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Curve } from '../codec/messages.js';

/**
 * The PKCS#10 request a device's secure element makes for its fresh key (RFC 2986): subject
 * `CN=<commonName>`, the key's SubjectPublicKeyInfo, no attributes, an ECDSA signature. Built
 * from DER directly over node:crypto, as small firmware does: a bench runs dozens of simulated
 * devices beside the station, and their host CPU is not what a line is measured on.
 */

const ECDSA_WITH: Record<Curve, { oid: string; hash: 'sha256' | 'sha384' }> = {
  'P-256': { oid: '2a8648ce3d040302', hash: 'sha256' }, // ecdsa-with-SHA256
  'P-384': { oid: '2a8648ce3d040303', hash: 'sha384' }, // ecdsa-with-SHA384
};
const NODE_CURVE: Record<Curve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };
const OID_COMMON_NAME = '550403';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...content: Buffer[]): Buffer => tlv(0x30, ...content);
const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, 'hex'));

function subjectCommonName(commonName: string): Buffer {
  const attribute = sequence(oid(OID_COMMON_NAME), tlv(0x0c, Buffer.from(commonName, 'utf8')));
  return sequence(tlv(0x31, attribute));
}

/** Generates a key on `curve` and its CSR; returns the PKCS#8 key and the DER request. */
export function generateKeyAndCsrDer(
  curve: Curve,
  commonName: string,
): { pkcs8: Uint8Array; csr: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] });
  const info = sequence(
    tlv(0x02, Buffer.from([0])), // version v1 (0)
    subjectCommonName(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa0), // attributes: none
  );
  const algorithm = ECDSA_WITH[curve];
  const signature = sign(algorithm.hash, info, {
    key: privateKey as KeyObject,
    dsaEncoding: 'der',
  });
  const csr = sequence(
    info,
    sequence(oid(algorithm.oid)),
    tlv(0x03, Buffer.from([0]), signature), // BIT STRING, no unused bits
  );
  return {
    pkcs8: new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })),
    csr: new Uint8Array(csr),
  };
}
