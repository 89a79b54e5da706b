import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/openssl.js';
import { buildTestCertificate, basicConstraints, testName } from '../testing/testCertificates.js';
import { createTpmVendor, type TpmVendor } from '../testing/tpmVendorKit.js';
import { EkTrustStore, SHIPPED_EK_TRUST_FOLDER, shippedEkTrustFolder } from './ekTrustStore.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

let vendor: TpmVendor;
let dir = '';
let remove = async (): Promise<void> => {};

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST Trust Store Vendor' });
  ({ dir, remove } = await tempDir());
});
afterAll(() => remove());

/** A fresh folder under the test's temporary folder holding `files`. */
async function folderWith(
  name: string,
  files: Record<string, string | Uint8Array>,
): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder);
  for (const [file, content] of Object.entries(files)) await writeFile(join(folder, file), content);
  return folder;
}

async function refusal(load: () => Promise<unknown>): Promise<{ code: string; detail: string }> {
  try {
    await load();
  } catch (err) {
    return err as { code: string; detail: string };
  }
  throw new Error('the store loaded');
}

describe('the shipped TPM vendor CA certificates', () => {
  it('is certs/trust/tpm-vendors, in the sources and inside an application folder', () => {
    expect(SHIPPED_EK_TRUST_FOLDER).toBe(join(repoRoot, 'certs', 'trust', 'tpm-vendors'));
    expect(shippedEkTrustFolder(repoRoot)).toBe(SHIPPED_EK_TRUST_FOLDER);
  });

  it('loads every shipped file, each certificate once, with the roots OpenSSL finds self-signed', async () => {
    const store = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER]);
    // What OpenSSL (node:crypto's X509Certificate) reads in the same files, independently.
    const files = (await readdir(SHIPPED_EK_TRUST_FOLDER)).filter((f) => f.endsWith('.pem'));
    expect(files.length).toBeGreaterThan(40);
    const fingerprints = new Set<string>();
    const roots = new Set<string>();
    for (const file of files) {
      const cert = new X509Certificate(await readFile(join(SHIPPED_EK_TRUST_FOLDER, file)));
      expect(cert.ca, file).toBe(true);
      fingerprints.add(cert.fingerprint256);
      if (cert.subject === cert.issuer && cert.verify(cert.publicKey))
        roots.add(cert.fingerprint256);
      // Each file alone loads too: a supervisor may copy any one of them.
      const alone = EkTrustStore.fromPems([
        { name: file, pem: await readFile(join(SHIPPED_EK_TRUST_FOLDER, file), 'utf8') },
      ]);
      expect(alone.size, file).toBe(1);
    }
    expect(store.size).toBe(fingerprints.size);
    const storeRoots = store.certificates.filter((ca) => ca.root);
    expect(storeRoots.map((ca) => new X509Certificate(ca.cert.der).fingerprint256).sort()).toEqual(
      [...roots].sort(),
    );
    expect(storeRoots.map((ca) => ca.cert.subject.label)).toContain(
      'Infineon OPTIGA(TM) RSA Root CA',
    );
  });

  it('tells the 16 certificates whose roots are not shipped from those that can anchor', async () => {
    const store = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER]);
    const waiting = store.unanchored.map((source) => basename(source)).sort();
    expect(waiting).toEqual([
      'Alibaba_Cloud_vTPM_EK.pem',
      'IFX1.pem',
      'IFX15.pem',
      'IFX2.pem',
      'IFX3.pem',
      'IFX4.pem',
      'IFX5.pem',
      'IFX8.pem',
      'IFX_RSA_17I.pem',
      'IFX_RSA_18I.pem',
      'IFX_RSA_20I.pem',
      'IFX_RSA_21I.pem',
      'IFX_RSA_RT.pem',
      'Nationz_TPM_EK.pem',
      'STM_ECC_01I.pem',
      'STM_ECC_01RT.pem',
    ]);
    expect(store.unanchored.every((source) => source.startsWith(SHIPPED_EK_TRUST_FOLDER))).toBe(
      true,
    );
    // One certificate per shipped file: the rest are the roots and the intermediates below them.
    expect(store.anchored).toBe(store.size - 16);
    expect(store.anchored).toBeGreaterThan(store.certificates.filter((ca) => ca.root).length);
  });

  it('keeps a provenance note beside the certificates', async () => {
    const note = await readFile(join(SHIPPED_EK_TRUST_FOLDER, 'README.md'), 'utf8');
    expect(note).toMatch(/keylime/);
    expect(note).toMatch(/Apache-2\.0/);
    expect(note).toMatch(/trust\/tpm-vendors/);
  });
});

describe('EkTrustStore.fromFolders', () => {
  it('reads PEM and DER under .pem, .crt and .cer, skips other files, and skips a missing folder', async () => {
    const folder = await folderWith('mixed', {
      'root.PEM': vendor.rootPem,
      'intermediate.cer': vendor.intermediateDer,
      'again.crt': vendor.intermediatePem,
      'README.md': 'not a certificate',
      'notes.txt': '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n',
    });
    const store = await EkTrustStore.fromFolders([join(dir, 'no-such-folder'), folder]);
    expect(store.size).toBe(2);
    expect(store.certificates.map((ca) => [ca.cert.subject.label, ca.root])).toEqual([
      ['TEST Trust Store Vendor EK Intermediate CA', false],
      ['TEST Trust Store Vendor EK Root CA', true],
    ]);
    expect(store.certificates[0]!.source).toBe(join(folder, 'again.crt'));
    expect((await EkTrustStore.fromFolders([join(dir, 'no-such-folder')])).size).toBe(0);
  });

  it('refuses the whole store over one bad file, naming it: EK_TRUST_STORE_UNREADABLE', async () => {
    const cases: [string, string | Uint8Array][] = [
      ['garbage.pem', 'hello'],
      ['bad-base64.pem', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'],
      ['cut.cer', vendor.rootDer.subarray(0, 100)],
      ['empty.crt', new Uint8Array(0)],
    ];
    for (const [file, content] of cases) {
      const folder = await folderWith(`bad-${file}`, {
        'good.pem': vendor.rootPem,
        [file]: content,
      });
      const err = await refusal(() => EkTrustStore.fromFolders([folder]));
      expect(err.code, file).toBe('EK_TRUST_STORE_UNREADABLE');
      expect(err.detail, file).toContain(join(folder, file));
    }
  });

  it('refuses a certificate that is not a CA, and a folder path that is a file', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leafName = testName([['2.5.4.3', 'TEST not a CA']]);
    const leaf = buildTestCertificate({
      serial: 7,
      issuer: leafName,
      subject: leafName,
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2044-01-01T00:00:00Z'),
      spki: publicKey.export({ format: 'der', type: 'spki' }),
      extensions: [basicConstraints(false)],
      signer: privateKey,
      signature: 'ecdsa-sha256',
    });
    const folder = await folderWith('leaf', { 'leaf.cer': leaf });
    const err = await refusal(() => EkTrustStore.fromFolders([folder]));
    expect(err).toMatchObject({ code: 'EK_TRUST_STORE_UNREADABLE' });
    expect(err.detail).toMatch(/leaf\.cer \("TEST not a CA"\) is not a CA certificate/);

    const notAFolder = join(folder, 'leaf.cer');
    expect(await refusal(() => EkTrustStore.fromFolders([notAFolder]))).toMatchObject({
      code: 'EK_TRUST_STORE_UNREADABLE',
      detail: expect.stringContaining(notAFolder) as unknown,
    });
  });
});

describe('anchored and unanchored certificates', () => {
  it('anchors an intermediate once a root is added in another folder', async () => {
    const line = await folderWith('anchor-line', {
      'vendor-intermediate.pem': vendor.intermediatePem,
    });
    const alone = await EkTrustStore.fromFolders([line]);
    expect(alone).toMatchObject({ size: 1, anchored: 0 });
    expect(alone.unanchored).toEqual([join(line, 'vendor-intermediate.pem')]);

    const supervisor = await folderWith('anchor-supervisor', { 'vendor-root.cer': vendor.rootDer });
    const both = await EkTrustStore.fromFolders([line, supervisor]);
    expect(both).toMatchObject({ size: 2, anchored: 2, unanchored: [] });

    // Beside the shipped CAs, the vendor's two certificates anchor and nothing else changes.
    const shipped = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER]);
    const withVendor = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER, line, supervisor]);
    expect(withVendor.anchored).toBe(shipped.anchored + 2);
    expect(withVendor.unanchored).toEqual(shipped.unanchored);
  });

  it('proves each link by its signature: a root of the same name but another key anchors nothing', async () => {
    const twin = await createTpmVendor({ name: 'TEST Trust Store Vendor' });
    const store = EkTrustStore.fromPems([
      { name: 'twin root', pem: twin.rootPem },
      { name: 'intermediate', pem: vendor.intermediatePem },
    ]);
    expect(store).toMatchObject({ size: 2, anchored: 1, unanchored: ['intermediate'] });
  });

  it('names a file once however many waiting certificates it holds, and a root alone anchors', async () => {
    const [other, third] = await Promise.all([
      createTpmVendor({ name: 'TEST Other Vendor' }),
      createTpmVendor({ name: 'TEST Third Vendor' }),
    ]);
    const store = EkTrustStore.fromPems([
      { name: 'waiting', pem: `${vendor.intermediatePem}${third.intermediatePem}` },
      { name: 'complete', pem: `${other.intermediatePem}${other.rootPem}` },
    ]);
    expect(store).toMatchObject({ size: 4, anchored: 2, unanchored: ['waiting'] });
    expect(EkTrustStore.fromPems([{ name: 'root', pem: vendor.rootPem }])).toMatchObject({
      anchored: 1,
      unanchored: [],
    });
  });
});

describe('EkTrustStore.fromPems', () => {
  it('reads several certificates in one PEM, counts a repeated one once, and names the file it refuses', () => {
    const both = `${vendor.rootPem}some text between\n${vendor.intermediatePem}`;
    const store = EkTrustStore.fromPems([
      { name: 'bundle', pem: both },
      { name: 'copy', pem: vendor.rootPem },
    ]);
    expect(store.size).toBe(2);
    expect(() => EkTrustStore.fromPems([{ name: 'vendor-x.pem', pem: 'nothing here' }])).toThrow(
      expect.objectContaining({
        code: 'EK_TRUST_STORE_UNREADABLE',
        detail: 'vendor-x.pem: holds no CERTIFICATE block',
      }),
    );
  });
});
