import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpensslPki } from '../../certs/ca/testing/opensslPki.js';

/**
 * Test credentials for the compatibility tests. Certificates are made by the real `openssl` CLI
 * (through the certs/ test PKI) the way a customer's PKI team or a device maker would make them;
 * ECDSA P-256 keeps key generation fast. Keys are derived by the documented recipe, written out
 * here rather than taken from dps/, so the tests do not share a mistake with the emulator.
 */

/** What an X.509 device hands to azure-iot-security-x509: leaf (+ chain) PEM and its key. */
export interface DeviceCertificate {
  /** The leaf alone. */
  leafPem: string;
  /** Leaf first, then the issuing CAs up to the root (what DPS samples present). */
  certPem: string;
  keyPem: string;
}

export class CompatPki {
  readonly #pki: OpensslPki;

  private constructor(readonly dir: string) {
    this.#pki = new OpensslPki(dir);
  }

  /** A PKI in a fresh temporary directory; call `remove()` when done. */
  static create(): CompatPki {
    return new CompatPki(mkdtempSync(join(tmpdir(), 'ls-compat-pki-')));
  }

  /** A self-signed root CA; returns its PEM. */
  rootCa(name: string): string {
    this.#pki.selfSigned(name, 'P-256', 'root');
    return this.#pki.text(`${name}.pem`);
  }

  /** An intermediate CA issued by `issuer`; returns its PEM. */
  intermediateCa(name: string, issuer: string): string {
    this.#pki.issue(name, 'P-256', issuer, 'intermediate');
    return this.#pki.text(`${name}.pem`);
  }

  /** The PEM of a certificate made earlier. */
  pem(name: string): string {
    return this.#pki.text(`${name}.pem`);
  }

  /** A self-signed device certificate (an individual enrollment without a CA). */
  selfSignedDevice(commonName: string): DeviceCertificate {
    const name = `device-${commonName}`;
    this.#pki.selfSigned(name, 'P-256', 'leaf', commonName);
    const leafPem = this.#pki.text(`${name}.pem`);
    return { leafPem, certPem: leafPem, keyPem: this.#pki.text(`${name}.key`) };
  }

  /** A device certificate issued by `issuer`, presented with `chain` (issuer first, root last). */
  issuedDevice(commonName: string, issuer: string, chain: readonly string[]): DeviceCertificate {
    const name = `device-${commonName}`;
    this.#pki.issue(name, 'P-256', issuer, 'leaf', commonName);
    const leafPem = this.#pki.text(`${name}.pem`);
    const certPem = [leafPem, ...chain.map((ca) => this.#pki.text(`${ca}.pem`))].join('');
    return { leafPem, certPem, keyPem: this.#pki.text(`${name}.key`) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SHA-256 of a PEM certificate's DER, upper-case hex without separators. */
export function sha256Thumbprint(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}

/**
 * An endorsement key as DPS stores it: base64 of a marshalled TPM2B_PUBLIC for the standard RSA
 * 2048 EK template (dps-protocol.md §5), around a fresh RSA modulus. 316 bytes.
 */
export function sampleEndorsementKey(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const modulus = Buffer.from(publicKey.export({ format: 'jwk' }).n ?? '', 'base64url');
  // The EK policy: PolicySecret(TPM_RH_ENDORSEMENT), fixed by the TCG EK profile.
  const policy = Buffer.from(
    '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa',
    'hex',
  );
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const publicArea = Buffer.concat([
    u16(0x0001), // TPM_ALG_RSA
    u16(0x000b), // nameAlg SHA-256
    Buffer.from([0x00, 0x03, 0x00, 0xb2]), // fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt
    u16(policy.length),
    policy,
    u16(0x0006), // symmetric AES
    u16(128),
    u16(0x0043), // CFB
    u16(0x0010), // scheme NULL
    u16(2048),
    Buffer.alloc(4), // default exponent
    u16(modulus.length),
    modulus,
  ]);
  return Buffer.concat([u16(publicArea.length), publicArea]).toString('base64');
}

/** A group member's key: base64(HMAC-SHA256(base64decode(groupKey), registrationId)) (§2.4). */
export function derivedDeviceKey(groupKeyBase64: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKeyBase64, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}
