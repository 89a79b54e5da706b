import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { CertError } from '../../certs/certErrors.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../certs/stationCa.js';
import { CertificateLedger } from '../../station/store/certificateLedger.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';
import { opensslCsr, opensslVerifyLeaf } from './opensslTools.js';

const PASSPHRASE = 'line-3 night shift passphrase';
// A low scrypt cost keeps the test fast; the default parameters are tested in certs/custody.
const wrapper = (passphrase = PASSPHRASE) =>
  new PassphraseKeyWrapper(passphrase, { scrypt: { N: 2 ** 12 } });

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    if (err instanceof CertError) return err.code;
    throw err;
  }
  throw new Error('expected a CertError');
}

let dataDir: string;
let ca: StationCa;
let ledger: CertificateLedger;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ls-station-ca-'));
  await initStationCa(join(dataDir, 'ca'), { name: 'Line 3 TEST', wrapper: wrapper() });
  ledger = new CertificateLedger(openStationDatabase(join(dataDir, 'station.db')));
  ca = await StationCa.open(join(dataDir, 'ca'), ledger);
});

describe('the station CA with its ledger in the station database', () => {
  it('refuses to issue while locked, and tells a wrong passphrase apart', async () => {
    const { der: csr } = await opensslCsr('line3-dev-0001');
    expect(await codeOf(ca.issueFromCsr(csr, { registrationId: 'line3-dev-0001' }))).toBe(
      'CA_LOCKED',
    );
    expect(await codeOf(ca.unlock(wrapper('not the passphrase')))).toBe('CUSTODY_WRONG_PASSPHRASE');
    expect(ca.status().locked).toBe(true);
  });

  it('issues from an openssl CSR a leaf openssl verifies, and records it', async () => {
    await ca.unlock(wrapper());
    const { der: csr } = await opensslCsr('line3-dev-0002');
    const issued = await ca.issueFromCsr(csr, { registrationId: 'line3-dev-0002' });
    const text = await opensslVerifyLeaf(issued.certificateDer, issued.chainDer);
    expect(text).toMatch(/Subject: CN ?= ?line3-dev-0002/);
    expect(text).toContain('CA:FALSE');
    expect(text).toContain('TLS Web Client Authentication');
    expect(ledger.get(issued.serialNumber)).toMatchObject({
      registrationId: 'line3-dev-0002',
      status: 'issued',
      keySource: 'device',
      fingerprintSha256: issued.fingerprintSha256,
    });
  });

  it('refuses a CSR for another device before signing anything', async () => {
    const before = ledger.list().length;
    const { der: csr } = await opensslCsr('line3-dev-9999');
    expect(await codeOf(ca.issueFromCsr(csr, { registrationId: 'line3-dev-0003' }))).toBe(
      'CSR_SUBJECT_MISMATCH',
    );
    expect(ledger.list().length).toBe(before);
  });

  it('issues with a station-made key that matches the certificate and is stored nowhere', async () => {
    const issued = await ca.issueWithStationKey({ registrationId: 'line3-dev-0004' });
    await opensslVerifyLeaf(issued.certificateDer, issued.chainDer);
    const { createPrivateKey, createPublicKey, X509Certificate } = await import('node:crypto');
    const certKey = new X509Certificate(issued.certificateDer).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    const ownKey = createPublicKey(
      createPrivateKey({ key: issued.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
    );
    expect(Buffer.from(ownKey.export({ format: 'der', type: 'spki' })).equals(certKey)).toBe(true);
    expect(ledger.get(issued.serialNumber)?.keySource).toBe('station');

    // Nothing under the data directory holds the station-made key or the CA keys in clear.
    const scalar = createPrivateKey({
      key: issued.privateKeyPkcs8,
      format: 'der',
      type: 'pkcs8',
    }).export({
      format: 'jwk',
    }).d!;
    const needles = [
      Buffer.from(issued.privateKeyPkcs8),
      Buffer.from(scalar, 'base64url'),
      Buffer.from(Buffer.from(issued.privateKeyPkcs8).toString('base64')),
      Buffer.from('PRIVATE KEY'),
    ];
    for (const file of await filesUnder(dataDir)) {
      const content = await readFile(file);
      for (const needle of needles)
        expect(content.includes(needle), `${file} holds key material`).toBe(false);
    }
  });

  it('lists and revokes what it issued', async () => {
    const issued = await ca.issueWithStationKey({ registrationId: 'line3-dev-0005' });
    await ca.revoke(issued.serialNumber, 'device scrapped');
    const [row] = await ca.list({ registrationId: 'line3-dev-0005' });
    expect(row).toMatchObject({ status: 'revoked', revocationReason: 'device scrapped' });
    expect(await codeOf(ca.revoke(issued.serialNumber, 'again'))).toBe('CA_UNKNOWN_CERTIFICATE');
    expect(await codeOf(ca.revoke('00ff', 'never issued'))).toBe('CA_UNKNOWN_CERTIFICATE');
  });

  it('stops issuing once locked again', async () => {
    ca.lock();
    expect(await codeOf(ca.issueWithStationKey({ registrationId: 'line3-dev-0006' }))).toBe(
      'CA_LOCKED',
    );
    expect(await codeOf(() => ca.chain())).toBe('CA_LOCKED');
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
