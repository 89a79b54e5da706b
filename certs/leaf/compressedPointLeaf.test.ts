import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Crypto } from '@peculiar/webcrypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initStationCa } from '../ca/initStationCa.js';
import type { IssuanceLedger, IssuanceRecord } from '../caSigner.js';
import { PassphraseKeyWrapper } from '../custody/passphraseKeyWrapper.js';
import { isProblem } from '../der/derReader.js';
import { parseCsr } from '../csr/parseCsr.js';
import { openssl, opensslCsr, opensslMissing, tempDir } from '../fixtures/openssl.js';
import { createInMemoryCa, issueLeafFromCsr } from '../referenceIssuer.js';
import { StationCa } from '../stationCa.js';
import { readCertificate } from '../x509/readCertificate.js';

/**
 * A CSR may carry its EC key compressed (RFC 5480 §2.2); the leaf must not, since many TLS
 * stacks refuse a certificate whose key is compressed. The CSRs here come from `openssl req`
 * with a key converted by `openssl ec -conv_form compressed`, and `openssl verify` judges the
 * leaves.
 */

const ID = 'ls-demo-1-sim000077';
const wrapper = new PassphraseKeyWrapper('unit test passphrase', { scrypt: { N: 2 ** 10 } });

class MemoryLedger implements IssuanceLedger {
  readonly serials = new Set<string>();
  record(entry: IssuanceRecord): boolean {
    if (this.serials.has(entry.serialNumber)) return false;
    this.serials.add(entry.serialNumber);
    return true;
  }
  list(): [] {
    return [];
  }
  revoke(): boolean {
    return false;
  }
}

const pem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

/** The EC point a certificate carries, read from its own bytes. */
function pointOf(certificateDer: Uint8Array): Uint8Array {
  const reading = readCertificate(certificateDer);
  if (isProblem(reading)) throw new Error(reading.toString());
  return reading.spki.subjectPublicKey;
}

const suiteName = opensslMissing
  ? `leaves for compressed EC keys: SKIPPED, ${opensslMissing}`
  : 'leaves for compressed EC keys';

describe.skipIf(opensslMissing !== undefined)(suiteName, () => {
  let dir = '';
  let remove = async (): Promise<void> => {};
  let ca: StationCa;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    const caDir = join(dir, 'ca');
    await initStationCa(caDir, { name: 'Compressed', wrapper });
    ca = await StationCa.open(caDir, new MemoryLedger());
    await ca.unlock(wrapper);
  });
  afterAll(() => remove());

  /** An openssl-made CSR for `curve` whose SubjectPublicKeyInfo holds the point compressed. */
  async function compressedCsr(curve: 'P-256' | 'P-384'): Promise<{ csr: Buffer; key: string }> {
    const name = `dev-${curve}`;
    const ec = ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`];
    await openssl(['genpkey', ...ec, '-out', `${name}.key`], dir);
    await openssl(
      ['ec', '-in', `${name}.key`, '-conv_form', 'compressed', '-out', `${name}.c.key`],
      dir,
    );
    const csr = await opensslCsr(dir, `/CN=${ID}`, ['-key', `${name}.c.key`]);
    const form = parseCsr(csr).spki.subjectPublicKey[0];
    expect(form === 0x02 || form === 0x03).toBe(true);
    return { csr, key: await readFile(join(dir, `${name}.key`), 'utf8') };
  }

  /** `openssl verify` of `leaf` against `chain` (issuing CA first, root last). */
  async function opensslVerify(name: string, leaf: Uint8Array, chain: readonly Uint8Array[]) {
    await writeFile(join(dir, `${name}.root.pem`), pem(chain[chain.length - 1]!));
    await writeFile(join(dir, `${name}.untrusted.pem`), chain.slice(0, -1).map(pem).join(''));
    await writeFile(join(dir, `${name}.pem`), pem(leaf));
    const args = ['verify', '-CAfile', `${name}.root.pem`, '-purpose', 'sslclient'];
    if (chain.length > 1) args.push('-untrusted', `${name}.untrusted.pem`);
    return (await openssl([...args, `${name}.pem`], dir)).trim();
  }

  it.each(['P-256', 'P-384'] as const)(
    'StationCa.issueFromCsr writes a compressed %s key uncompressed, and openssl verifies the leaf',
    async (curve) => {
      const { csr, key } = await compressedCsr(curve);
      const issued = await ca.issueFromCsr(csr, { registrationId: ID });
      const point = pointOf(issued.certificateDer);
      expect(point[0]).toBe(0x04);
      expect(point.length).toBe(curve === 'P-256' ? 65 : 97);
      // The device's own key, uncompressed: its x and y, nothing else changed.
      const inLeaf = new X509Certificate(issued.certificateDer).publicKey;
      expect(inLeaf.export({ format: 'jwk' })).toEqual(
        createPublicKey(key).export({ format: 'jwk' }),
      );
      const name = `station-${curve}`;
      expect(await opensslVerify(name, issued.certificateDer, issued.chainDer)).toBe(
        `${name}.pem: OK`,
      );
    },
  );

  it('the reference issuer (DEMO line) writes it uncompressed too', async () => {
    const { csr } = await compressedCsr('P-256');
    const reference = await createInMemoryCa(new Crypto(), 'Compressed Reference');
    const leaf = await issueLeafFromCsr(reference, csr, ID);
    expect(pointOf(new Uint8Array(leaf.rawData))[0]).toBe(0x04);
    const chain = [
      new Uint8Array(reference.issuing.rawData),
      new Uint8Array(reference.root.rawData),
    ];
    expect(await opensslVerify('reference', new Uint8Array(leaf.rawData), chain)).toBe(
      'reference.pem: OK',
    );
  });
});
