import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateToPem, certificatesFromPem } from '../pemCertificates.js';

/**
 * Test support: a small PKI made with the real `openssl` command line, as a customer's PKI team
 * would make it, so imports are tested against files the station did not write itself.
 */

// Extension sections for `-extensions`; OPENSSL_CONF points here so the system config (which
// differs between distributions) adds nothing.
const CONFIG = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root ]
basicConstraints = critical, CA:true, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ root_pathlen0 ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ intermediate_server_only ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ intermediate_client ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ca_without_cert_sign ]
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

export type Extensions =
  | 'root'
  | 'root_pathlen0'
  | 'intermediate'
  | 'intermediate_server_only'
  | 'intermediate_client'
  | 'ca_without_cert_sign'
  | 'leaf';
export type KeyKind = 'P-256' | 'P-384' | 'RSA-2048' | 'RSA-1024' | 'Ed25519';

const GENPKEY: Record<KeyKind, string[]> = {
  'P-256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'P-384': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'RSA-2048': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  'RSA-1024': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  Ed25519: ['-algorithm', 'ed25519'],
};

export class OpensslPki {
  readonly #config: string;

  constructor(readonly dir: string) {
    this.#config = join(dir, 'openssl.cnf');
    writeFileSync(this.#config, CONFIG);
  }

  /** Runs openssl in the PKI directory; throws with openssl's stderr if it fails. */
  run(...args: string[]): string {
    return execFileSync('openssl', args, {
      cwd: this.dir,
      env: { ...process.env, OPENSSL_CONF: this.#config },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  text(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  bytes(name: string): Uint8Array {
    return new Uint8Array(readFileSync(this.path(name)));
  }

  /** `<name>.key` (PKCS#8 PEM). */
  key(name: string, kind: KeyKind): void {
    this.run('genpkey', ...GENPKEY[kind], '-out', `${name}.key`);
  }

  /** `<name>.pem`, self-signed with `<name>.key` (made first with `kind`). */
  selfSigned(name: string, kind: KeyKind, extensions: Extensions, cn = name): void {
    this.key(name, kind);
    const digest = kind === 'Ed25519' ? [] : ['-sha256'];
    this.run(
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${cn}`,
      ...digest,
      '-days',
      '3650',
      '-config',
      this.#config,
      '-extensions',
      extensions,
      '-out',
      `${name}.pem`,
    );
  }

  /**
   * `<name>.pem` for a new `<name>.key`, issued by `<issuer>.pem`/`<issuer>.key`, valid `days`
   * from now (a short-lived CA for the tests of what its shortness does to device certificates).
   */
  issue(
    name: string,
    kind: KeyKind,
    issuer: string,
    extensions: Extensions,
    cn = name,
    days = 1825,
  ): void {
    this.key(name, kind);
    this.run(
      'req',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${cn}`,
      '-config',
      this.#config,
      '-out',
      `${name}.csr`,
    );
    this.run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      this.#config,
      '-extensions',
      extensions,
      '-out',
      `${name}.pem`,
    );
  }

  /**
   * `<out>.pem`: `<name>.pem` (a P-256 certificate) with its key's curve OID changed from P-256
   * (1.2.840.10045.3.1.7) to an arc no curve has (…3.1.8), as a file mangled on its way arrives:
   * base64 and DER stay valid and openssl still reads the certificate, but not its public key.
   */
  unknownCurve(name: string, out: string): void {
    const der = Buffer.from(certificatesFromPem(this.text(`${name}.pem`))[0]!);
    const p256 = Buffer.from('06082a8648ce3d030107', 'hex');
    const at = der.indexOf(p256);
    if (at < 0) throw new Error(`${name}.pem has no P-256 key`);
    der[at + p256.length - 1] = 0x08;
    writeFileSync(this.path(`${out}.pem`), certificateToPem(der));
  }

  /** `<out>.p12` holding `<name>.key`, `<name>.pem` and the chain files; `legacy` = 3DES/RC2. */
  pkcs12(out: string, name: string, chain: string[], password: string, legacy = false): void {
    const certfile = chain.length > 0 ? ['-certfile', `${out}.chain.pem`] : [];
    writeFileSync(this.path(`${out}.chain.pem`), chain.map((c) => this.text(`${c}.pem`)).join(''));
    this.run(
      'pkcs12',
      '-export',
      ...(legacy ? ['-legacy'] : []),
      '-inkey',
      `${name}.key`,
      '-in',
      `${name}.pem`,
      ...certfile,
      '-passout',
      `pass:${password}`,
      '-out',
      `${out}.p12`,
    );
  }
}
