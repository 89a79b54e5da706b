import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * Certificates for the emulator: its own CA and server certificate, and the CAs and device leaves
 * that tests and demos need (X.509 attestation). ECDSA P-256 throughout. The WebCrypto provider
 * is passed per call, so loading this file does not change @peculiar/x509's global provider for
 * the rest of the process.
 */

type CryptoKeyPair = webcrypto.CryptoKeyPair;
// node:crypto's webcrypto is the standard Crypto; the library types it with the DOM name.
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SHA256_ECDSA = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** The name of the CA that signs the emulator's server certificate. */
export const EMULATOR_CA_NAME = 'Line Station DPS emulator CA';

/** PEM material as `tls.createServer` and `https.request` take it. */
export interface EmulatorTlsMaterial {
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** A certificate, its PEM forms and its key pair (so that a CA can issue further certificates). */
export interface IssuedCertificate {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  certPem: string;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
}

/** What the next certificate is for. */
export interface CertificateRequest {
  commonName: string;
  /** A CA certificate (basicConstraints CA:true, keyCertSign). Default false. */
  ca?: boolean;
  /** serverAuth with these SANs. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default: now minus one minute. */
  notBefore?: Date;
  /** Default: notBefore plus `days` (default 825 days). */
  notAfter?: Date;
  days?: number;
}

/** A self-signed root CA. */
export async function createCertificateAuthority(
  commonName: string,
  options: Omit<CertificateRequest, 'commonName' | 'ca'> = {},
): Promise<IssuedCertificate> {
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(options);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [commonName] }],
      keys,
      notBefore,
      notAfter,
      signingAlgorithm: SHA256_ECDSA,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return withPem(certificate, keys);
}

/** A certificate signed by `issuer`: a subordinate CA, a server or a device (client) leaf. */
export async function issueCertificate(
  issuer: IssuedCertificate,
  request: CertificateRequest,
): Promise<IssuedCertificate> {
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(request);
  const server = (request.dnsNames?.length ?? 0) + (request.ipAddresses?.length ?? 0) > 0;
  const extensions: x509.Extension[] = request.ca
    ? [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
      ]
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(
          [server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
          false,
        ),
      ];
  if (server) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  extensions.push(
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey, false, crypto),
  );
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: [{ CN: [request.commonName] }],
      issuer: issuer.certificate.subject,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SHA256_ECDSA,
      extensions,
    },
    crypto,
  );
  return withPem(certificate, keys);
}

/**
 * A fresh emulator CA and a server certificate for the names DPS clients use: `localhost`,
 * `{serviceName}.azure-devices-provisioning.net`, the global endpoint, 127.0.0.1, and the host
 * the emulator listens on (its connection string names that host).
 */
export async function createEmulatorTls(
  serviceName: string,
  listenHost = '127.0.0.1',
): Promise<EmulatorTlsMaterial> {
  const dnsNames = emulatorServerNames(serviceName);
  const ipAddresses = ['127.0.0.1'];
  if (isIP(listenHost) !== 0) {
    if (!ipAddresses.includes(listenHost)) ipAddresses.push(listenHost);
  } else if (!dnsNames.includes(listenHost.toLowerCase())) {
    dnsNames.push(listenHost.toLowerCase());
  }
  const ca = await createCertificateAuthority(EMULATOR_CA_NAME, { days: 3650 });
  const server = await issueCertificate(ca, {
    commonName: `${serviceName}.azure-devices-provisioning.net`,
    dnsNames,
    ipAddresses,
  });
  return { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem };
}

/** The DNS names the emulator's server certificate carries. */
export function emulatorServerNames(serviceName: string): string[] {
  return [
    'localhost',
    `${serviceName}.azure-devices-provisioning.net`,
    'global.azure-devices-provisioning.net',
  ];
}

async function generateKeys(): Promise<CryptoKeyPair> {
  // Extractable: the PEM key goes into Node's tls options (server) or a test device's options.
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

function validity(request: Omit<CertificateRequest, 'commonName'>): {
  notBefore: Date;
  notAfter: Date;
} {
  const notBefore = request.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter =
    request.notAfter ?? new Date(notBefore.getTime() + (request.days ?? 825) * DAY_MS);
  return { notBefore, notAfter };
}

async function withPem(
  certificate: x509.X509Certificate,
  keys: CryptoKeyPair,
): Promise<IssuedCertificate> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { certificate, keys, certPem: `${certificate.toString('pem')}\n`, keyPem };
}
