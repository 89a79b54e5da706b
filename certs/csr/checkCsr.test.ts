import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertError, type CertErrorCode } from '../certErrors.js';
import { DEFAULT_LEAF_PROFILE, type LeafProfile } from '../leafProfile.js';
import { opensslCsr, opensslMissing, tempDir } from '../fixtures/openssl.js';
import { OID } from '../x509/oids.js';
import { buildCsr } from './buildCsr.js';
import { checkCsr } from './checkCsr.js';

const ID = 'ls-demo-1-sim000001';
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const RSA_PROFILE: LeafProfile = {
  ...DEFAULT_LEAF_PROFILE,
  allowedKeys: [...DEFAULT_LEAF_PROFILE.allowedKeys, { kty: 'RSA', minBits: 2048 }],
};

/** The CertError code checkCsr throws, or 'accepted'. */
async function outcome(
  der: Uint8Array,
  expectedRegistrationId = ID,
  profile = DEFAULT_LEAF_PROFILE,
): Promise<CertErrorCode | 'accepted'> {
  try {
    await checkCsr(der, { expectedRegistrationId, profile });
    return 'accepted';
  } catch (err) {
    if (err instanceof CertError) return err.code;
    throw err;
  }
}

const suiteName = opensslMissing
  ? `checkCsr on CSRs made by openssl: SKIPPED, ${opensslMissing}`
  : 'checkCsr on CSRs made by openssl';

describe.skipIf(opensslMissing !== undefined)(suiteName, () => {
  let dir = '';
  let remove = async (): Promise<void> => {};
  let good: Buffer;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    good = await opensslCsr(dir, `/CN=${ID}`, P256);
  });
  afterAll(() => remove());

  it('accepts P-256 and P-384 keys with SHA-256 or SHA-384, and RSA-2048 when allowed', async () => {
    const checked = await checkCsr(good, {
      expectedRegistrationId: ID,
      profile: DEFAULT_LEAF_PROFILE,
    });
    expect(checked.parsed.commonName.value).toBe(ID);
    expect(checked.parsed.spki.key).toEqual({ kty: 'EC', curve: 'P-256', curveOid: OID.secp256r1 });
    expect(checked.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const p384 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    expect(await outcome(await opensslCsr(dir, `/CN=${ID}`, p384, ['-sha384']))).toBe('accepted');
    expect(await outcome(await opensslCsr(dir, `/CN=${ID}`, P256, ['-sha384']))).toBe('accepted');
    const rsa = await opensslCsr(dir, `/CN=${ID}`, ['-newkey', 'rsa:2048']);
    expect(await outcome(rsa, ID, RSA_PROFILE)).toBe('accepted');
    expect(
      (await checkCsr(rsa, { expectedRegistrationId: ID, profile: RSA_PROFILE })).parsed.spki.key,
    ).toEqual({ kty: 'RSA', bits: 2048, exponentAllowed: true });
  });

  it('CSR_TOO_LARGE: a request over maxCsrBytes, refused before parsing', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `DNS:device-${i}.${'x'.repeat(60)}.example`);
    const big = await opensslCsr(dir, `/CN=${ID}`, P256, [
      '-addext',
      `subjectAltName=${names.join(',')}`,
    ]);
    expect(big.length).toBeGreaterThan(DEFAULT_LEAF_PROFILE.maxCsrBytes);
    expect(await outcome(big)).toBe('CSR_TOO_LARGE');
    // Size is checked first: oversize garbage is TOO_LARGE, not MALFORMED.
    expect(await outcome(Buffer.alloc(4097, 0xff))).toBe('CSR_TOO_LARGE');
    // The limit itself is allowed.
    expect(await outcome(good, ID, { ...DEFAULT_LEAF_PROFILE, maxCsrBytes: good.length })).toBe(
      'accepted',
    );
  });

  it('CSR_MALFORMED: truncated, garbage, trailing bytes, PEM instead of DER', async () => {
    expect(await outcome(good.subarray(0, good.length - 1))).toBe('CSR_MALFORMED');
    expect(await outcome(Buffer.from('not a certificate request'))).toBe('CSR_MALFORMED');
    expect(await outcome(Buffer.concat([good, Buffer.of(0)]))).toBe('CSR_MALFORMED');
    expect(await outcome(new Uint8Array(0))).toBe('CSR_MALFORMED');
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${good.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await outcome(Buffer.from(pem))).toBe('CSR_MALFORMED');
    // Version 1 (the INTEGER right after the two outer headers): parsing refuses it first.
    const v1 = Buffer.from(good);
    const version = v1.indexOf(Buffer.of(0x02, 0x01, 0x00));
    v1[version + 2] = 1;
    expect(await outcome(v1)).toBe('CSR_MALFORMED');
    // A public key point off the P-256 curve: well-formed DER, but no key node:crypto will load.
    const offCurve = Buffer.from(good);
    const point = offCurve.indexOf(Buffer.of(0x03, 0x42, 0x00, 0x04)) + 4;
    expect(point).toBeGreaterThan(4);
    offCurve[point + 63]! ^= 0x01;
    expect(await outcome(offCurve)).toBe('CSR_MALFORMED');
    // The same request re-encoded with a BER indefinite length is not DER.
    const body = good.subarray(good[1] === 0x82 ? 4 : 3);
    expect(await outcome(Buffer.concat([Buffer.of(0x30, 0x80), body, Buffer.of(0, 0)]))).toBe(
      'CSR_MALFORMED',
    );
  });

  it('CSR_REGISTRATION_ID_INVALID: upper case, 65 characters, a bad character', async () => {
    expect(await outcome(await opensslCsr(dir, '/CN=Dev-01', P256), 'Dev-01')).toBe(
      'CSR_REGISTRATION_ID_INVALID',
    );
    const long = 'a'.repeat(65);
    // openssl refuses a CN over 64 characters itself, so this CSR is built with our writer.
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(await outcome(buildCsr({ privateKey: key, commonName: long }), long)).toBe(
      'CSR_REGISTRATION_ID_INVALID',
    );
    expect(await outcome(await opensslCsr(dir, '/CN=dev 01', P256), 'dev 01')).toBe(
      'CSR_REGISTRATION_ID_INVALID',
    );
  });

  it('CSR_KEY_NOT_ALLOWED: RSA-1024, RSA when the profile has none, P-521, Ed25519', async () => {
    const rsa1024 = await opensslCsr(dir, `/CN=${ID}`, ['-newkey', 'rsa:1024']);
    expect(await outcome(rsa1024, ID, RSA_PROFILE)).toBe('CSR_KEY_NOT_ALLOWED');
    const rsa2048 = await opensslCsr(dir, `/CN=${ID}`, ['-newkey', 'rsa:2048']);
    expect(await outcome(rsa2048)).toBe('CSR_KEY_NOT_ALLOWED');
    const p521 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'];
    expect(await outcome(await opensslCsr(dir, `/CN=${ID}`, p521))).toBe('CSR_KEY_NOT_ALLOWED');
    expect(await outcome(await opensslCsr(dir, `/CN=${ID}`, ['-newkey', 'ed25519']))).toBe(
      'CSR_KEY_NOT_ALLOWED',
    );
    // A P-384-only profile refuses P-256.
    const p384Only: LeafProfile = {
      ...DEFAULT_LEAF_PROFILE,
      allowedKeys: [{ kty: 'EC', curve: 'P-384' }],
    };
    expect(await outcome(good, ID, p384Only)).toBe('CSR_KEY_NOT_ALLOWED');
  });

  it('CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED: ecdsa-with-SHA1, sha512WithRSAEncryption', async () => {
    const sha1 = await opensslCsr(dir, `/CN=${ID}`, P256, ['-sha1']);
    expect(await outcome(sha1)).toBe('CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED');
    const rsaSha512 = await opensslCsr(dir, `/CN=${ID}`, ['-newkey', 'rsa:2048'], ['-sha512']);
    expect(await outcome(rsaSha512, ID, RSA_PROFILE)).toBe('CSR_SIGNATURE_ALGORITHM_NOT_ALLOWED');
  });

  it('CSR_SIGNATURE_INVALID: a flipped signature byte, a changed signed byte', async () => {
    const badSignature = Buffer.from(good);
    badSignature[badSignature.length - 1]! ^= 0x01;
    expect(await outcome(badSignature)).toBe('CSR_SIGNATURE_INVALID');
    // Change the last character of the CN inside the signed info (still a valid ID and DER).
    const badInfo = Buffer.from(good);
    const at = badInfo.indexOf(Buffer.from(ID)) + ID.length - 1;
    badInfo[at] = '2'.charCodeAt(0);
    expect(await outcome(badInfo, ID.slice(0, -1) + '2')).toBe('CSR_SIGNATURE_INVALID');
  });

  it('CSR_SUBJECT_MISMATCH: another CN, no CN, two CNs; other RDNs are ignored', async () => {
    expect(await outcome(good, 'ls-demo-1-sim000002')).toBe('CSR_SUBJECT_MISMATCH');
    expect(await outcome(await opensslCsr(dir, '/O=Line Station', P256))).toBe(
      'CSR_SUBJECT_MISMATCH',
    );
    expect(await outcome(await opensslCsr(dir, `/CN=${ID}/CN=${ID}`, P256))).toBe(
      'CSR_SUBJECT_MISMATCH',
    );
    expect(await outcome(await opensslCsr(dir, `/O=Acme/CN=${ID}/OU=line 3`, P256))).toBe(
      'accepted',
    );
  });

  it('CSR_EXTENSION_NOT_ALLOWED: basicConstraints CA:true requested, unless the profile allows it', async () => {
    const ca = await opensslCsr(dir, `/CN=${ID}`, P256, [
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    expect(await outcome(ca)).toBe('CSR_EXTENSION_NOT_ALLOWED');
    const allowing = {
      ...DEFAULT_LEAF_PROFILE,
      allowedRequestedExtensions: [OID.basicConstraints],
    };
    expect(await outcome(ca, ID, allowing)).toBe('accepted');
  });

  it('CSR_ATTRIBUTE_NOT_ALLOWED: challengePassword or unstructuredName, named by OID', async () => {
    /**
     * A CSR whose openssl config adds `attributes` ([attr]). The subject comes from the config
     * too: openssl req leaves the attributes out when -subj is given.
     */
    const withAttributes = async (name: string, attributes: string, extra: string[] = []) => {
      await writeFile(
        join(dir, `${name}.cnf`),
        `[req]\nprompt=no\ndistinguished_name=dn\nattributes=attr\n[dn]\nCN=${ID}\n[attr]\n${attributes}\n`,
      );
      return opensslCsr(dir, { config: `${name}.cnf` }, P256, extra);
    };
    const refusal = async (der: Uint8Array) =>
      checkCsr(der, { expectedRegistrationId: ID, profile: DEFAULT_LEAF_PROFILE }).then(
        () => undefined,
        (err: unknown) => (err instanceof CertError ? err : Promise.reject(err)),
      );

    const both = await withAttributes(
      'both',
      'challengePassword=hunter2secret\nunstructuredName=x',
    );
    const refused = await refusal(both);
    expect(refused?.code).toBe('CSR_ATTRIBUTE_NOT_ALLOWED');
    expect(refused?.detail).toMatch(/^attribute 1\.2\.840\.113549\.1\.9\.(7|2) \(/);
    // The password is a secret: the refusal names the attribute, never its value.
    expect(JSON.stringify(refused?.toJSON())).not.toContain('hunter2secret');

    const password = await refusal(await withAttributes('pw', 'challengePassword=hunter2secret'));
    expect(password?.detail).toBe('attribute 1.2.840.113549.1.9.7 (challengePassword)');
    const unstructured = await refusal(await withAttributes('un', 'unstructuredName=line 3'));
    expect(unstructured?.detail).toBe('attribute 1.2.840.113549.1.9.2 (unstructuredName)');
    // Beside an extensionRequest the profile allows, too; that request alone is accepted.
    const allowing = { ...DEFAULT_LEAF_PROFILE, allowedRequestedExtensions: [OID.subjectAltName] };
    const san = ['-addext', 'subjectAltName=DNS:device.example'];
    const withSan = await withAttributes('san', 'challengePassword=hunter2secret', san);
    expect(await outcome(withSan, ID, allowing)).toBe('CSR_ATTRIBUTE_NOT_ALLOWED');
    const sanOnly = await opensslCsr(dir, `/CN=${ID}`, P256, san);
    expect(await outcome(sanOnly, ID, allowing)).toBe('accepted');
  });
});

describe('checkCsr order of checks', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
  const bad = buildCsr({ privateKey: key, commonName: 'someone-else' });

  it('reports the first failure in the documented order', async () => {
    const codes = [
      await outcome(bad, 'Bad ID', { ...DEFAULT_LEAF_PROFILE, maxCsrBytes: 10 }),
      await outcome(bad, 'Bad ID', DEFAULT_LEAF_PROFILE),
      await outcome(bad, ID, DEFAULT_LEAF_PROFILE),
    ];
    expect(codes).toEqual(['CSR_TOO_LARGE', 'CSR_REGISTRATION_ID_INVALID', 'CSR_KEY_NOT_ALLOWED']);
  });
});

describe('checkCsr on unusual keys and names', () => {
  const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  it('CSR_SUBJECT_MISMATCH: a CN that is the registration ID after a byte-order mark', async () => {
    const csr = buildCsr({ privateKey: ecKey(), commonName: `\uFEFF${ID}` });
    expect(await outcome(csr)).toBe('CSR_SUBJECT_MISMATCH');
  });

  it('CSR_MALFORMED: an EC point in the hybrid form (06/07), which OpenSSL would take', async () => {
    const privateKey = ecKey();
    const spki = Buffer.from(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
    const point = spki.length - 65;
    expect(spki[point]).toBe(0x04);
    spki[point] = 0x06 | (spki[spki.length - 1]! & 1);
    expect(await outcome(buildCsr({ privateKey, commonName: ID, spki }))).toBe('CSR_MALFORMED');
    // The same key in the uncompressed form is accepted.
    expect(await outcome(buildCsr({ privateKey, commonName: ID }))).toBe('accepted');
  });

  it('CSR_KEY_NOT_ALLOWED: an RSA key whose public exponent is below 65537', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    expect(await outcome(buildCsr({ privateKey, commonName: ID }), ID, RSA_PROFILE)).toBe(
      'CSR_KEY_NOT_ALLOWED',
    );
  });
});
