import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Test support: a throw-away PKI made with the real `openssl` CLI for HTTPS servers on loopback.
 * A CA, a server certificate for `127.0.0.1` and `localhost`, and client certificates whose CN is
 * a registration id (X.509 device attestation). P-256 keys keep generation fast.
 */

/** A certificate with its private key, both PEM. Test material only. */
export interface PemIdentity {
  /** Leaf first, then the CA: what a device presents as its TLS client certificate chain. */
  certificateChainPem: string;
  privateKeyPem: string;
}

export interface LoopbackTls {
  /** Trust anchor for clients: pass it as `ca`. */
  caPem: string;
  /** The server certificate (SAN IP 127.0.0.1 and the DNS names asked for) and its key. */
  server: { certPem: string; keyPem: string };
  /** Client identities by common name. */
  clients: Map<string, PemIdentity>;
}

export interface LoopbackTlsOptions {
  /** DNS names for the server certificate besides IP 127.0.0.1. Default ['localhost']. */
  dnsNames?: string[];
  /** One client certificate per common name (e.g. registration ids). */
  clientCommonNames?: string[];
}

const run = promisify(execFile);

// Extension sections for `-extensions`; OPENSSL_CONF points here so that the system config
// (which differs between distributions) adds nothing.
const CONFIG = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @server_names
[ client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
`;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes the PKI in a temporary directory, reads it into memory and removes the directory. */
export async function createLoopbackTls(options: LoopbackTlsOptions = {}): Promise<LoopbackTls> {
  const dir = await mkdtemp(join(tmpdir(), 'line-station-dps-tls-'));
  try {
    const names = [
      'IP.1 = 127.0.0.1',
      ...(options.dnsNames ?? ['localhost']).map((n, i) => `DNS.${i + 1} = ${n}`),
    ];
    const config = join(dir, 'openssl.cnf');
    await writeFile(config, `${CONFIG}[ server_names ]\n${names.join('\n')}\n`);
    const openssl = async (...args: string[]): Promise<void> => {
      try {
        await run('openssl', args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: config } });
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? '';
        throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr}`, { cause: err });
      }
    };
    const text = (name: string): Promise<string> => readFile(join(dir, name), 'utf8');

    await openssl(
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Line Station loopback test CA',
      '-extensions',
      'ca',
    );
    const issue = async (name: string, subject: string, extensions: string): Promise<void> => {
      await openssl(
        'req',
        '-new',
        ...EC_KEY,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        subject,
      );
      await openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '2',
        '-extfile',
        config,
        '-extensions',
        extensions,
        '-out',
        `${name}.pem`,
      );
    };

    await issue('server', '/CN=127.0.0.1', 'server');
    const caPem = await text('ca.pem');
    const clients = new Map<string, PemIdentity>();
    for (const [index, commonName] of (options.clientCommonNames ?? []).entries()) {
      const name = `client${index}`;
      await issue(name, `/CN=${commonName}`, 'client');
      clients.set(commonName, {
        certificateChainPem: `${await text(`${name}.pem`)}${caPem}`,
        privateKeyPem: await text(`${name}.key`),
      });
    }
    return {
      caPem,
      server: { certPem: await text('server.pem'), keyPem: await text('server.key') },
      clients,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
