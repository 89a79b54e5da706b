import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  softwareTpmMissing,
  startSoftwareTpm,
  SWTPM_EK,
  type SoftwareTpm,
} from '../testing/softwareTpm.js';
import { checkEkCertificate } from './ekCertificate.js';
import { registrationIdFromEk } from './ekRegistrationId.js';
import { EkTrustStore, SHIPPED_EK_TRUST_FOLDER } from './ekTrustStore.js';
import { parseEkPublic } from './tpmPublic.js';

/**
 * The EK checks against a real TPM: swtpm manufactured by swtpm_setup (EKs persisted, EK
 * certificates in NV, NV locked) with its own local CA, read with tpm2-tools exactly as a
 * device's firmware reads its TPM for GET_EK.
 */

describe('EKs of a software TPM (swtpm)', () => {
  let tpm: SoftwareTpm | undefined;
  let localCa: EkTrustStore;
  let shipped: EkTrustStore;

  beforeAll(async () => {
    // `npm test` installs the tools first: missing, they fail the suite rather than skip it.
    if (softwareTpmMissing !== undefined) throw new Error(softwareTpmMissing);
    tpm = await startSoftwareTpm();
    localCa = EkTrustStore.fromPems([
      { name: 'swtpm local CA root', pem: tpm.localCaRootPem },
      { name: 'swtpm local CA', pem: tpm.localCaIntermediatePem },
    ]);
    shipped = await EkTrustStore.fromFolders([SHIPPED_EK_TRUST_FOLDER]);
  }, 90_000);

  afterAll(async () => {
    await tpm?.stop();
  });

  it('accepts the RSA EK, its certificate chained to the local CA, and derives its registration ID', async () => {
    const ekPublic = await tpm!.readPublic(SWTPM_EK.rsa.handle);
    const ek = parseEkPublic(ekPublic);
    expect(ek).toMatchObject({ type: 'rsa', keyBits: 2048, nameAlg: 'sha256' });
    // The persistent EK is the one the default template L-1 makes: recreated, it is the same.
    expect(Buffer.from(await tpm!.createEk('rsa')).equals(ekPublic)).toBe(true);

    const certificateDer = await tpm!.nvRead(SWTPM_EK.rsa.certificateIndex);
    const check = await checkEkCertificate({ ek, certificateDer, trust: localCa });
    expect(check.chain).toEqual(['unknown', 'swtpm-localca', 'swtpm-localca-rootca']);
    expect(check.vendorRoot).toBe('swtpm-localca-rootca');
    expect(check.notes).toEqual([]);
    // swtpm writes each TPM attribute as its own RDN of the subjectAltName, and adds the EKU.
    expect(check.tpm).toEqual({
      manufacturer: 'id:00001014',
      model: 'swtpm',
      version: expect.stringMatching(/^id:[0-9A-F]{8}$/) as unknown,
    });

    const id = registrationIdFromEk(ekPublic);
    expect(id).toHaveLength(52);
    const python = execFileSync(
      'python3',
      [
        '-c',
        "import sys,hashlib,base64; print(base64.b32encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode().lower().rstrip('='))",
      ],
      { input: ekPublic, encoding: 'utf8' },
    ).trim();
    expect(id).toBe(python);
  });

  it('finds the RSA EK at 0x81010001 to be template L-1, and a high-range RSA EK not', async () => {
    const ek = parseEkPublic(await tpm!.readPublic(SWTPM_EK.rsa.handle));
    expect(ek.templateL1Differences).toEqual([]);
    // createEk passes its argument to tpm2_createek -G, which also makes the high-range RSA 3072
    // EK: a real EK, so it reads, but not the one the DPS device SDKs enroll by.
    const highRange = parseEkPublic(await tpm!.createEk('rsa3072' as 'rsa'));
    expect(highRange).toMatchObject({ type: 'rsa', keyBits: 3072, nameAlg: 'sha384' });
    expect(highRange.templateL1Differences.map((d) => d.split(' ')[0])).toEqual([
      'nameAlg',
      'objectAttributes',
      'authPolicy',
      'symmetric',
      'keyBits',
      'unique',
    ]);
  });

  it('accepts the ECC EK (NIST P-384) and its certificate', async () => {
    const ekPublic = await tpm!.readPublic(SWTPM_EK.ecc.handle);
    const ek = parseEkPublic(ekPublic);
    expect(ek).toMatchObject({ type: 'ecc', curve: 'P-384', nameAlg: 'sha384' });
    expect(Buffer.from(await tpm!.createEk('ecc384')).equals(ekPublic)).toBe(true);
    const certificateDer = await tpm!.nvRead(SWTPM_EK.ecc.certificateIndex);
    const check = await checkEkCertificate({ ek, certificateDer, trust: localCa });
    expect(check.vendorRoot).toBe('swtpm-localca-rootca');
    expect(check.tpm).toMatchObject({ manufacturer: 'id:00001014', model: 'swtpm' });
    expect(registrationIdFromEk(ekPublic)).toMatch(/^[a-z2-7]{52}$/);
  });

  it('refuses the same EK against the shipped vendor CAs, naming the CA it could not find', async () => {
    const ek = parseEkPublic(await tpm!.readPublic(SWTPM_EK.rsa.handle));
    const certificateDer = await tpm!.nvRead(SWTPM_EK.rsa.certificateIndex);
    await expect(checkEkCertificate({ ek, certificateDer, trust: shipped })).rejects.toMatchObject({
      code: 'EK_CERT_UNTRUSTED',
      detail: expect.stringContaining('"swtpm-localca"') as unknown,
    });
  });

  it('refuses the RSA EK certificate offered for the ECC EK', async () => {
    const ek = parseEkPublic(await tpm!.readPublic(SWTPM_EK.ecc.handle));
    const certificateDer = await tpm!.nvRead(SWTPM_EK.rsa.certificateIndex);
    await expect(checkEkCertificate({ ek, certificateDer, trust: localCa })).rejects.toMatchObject({
      code: 'EK_CERT_KEY_MISMATCH',
    });
  });
});
