import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTpmVendor, type TpmVendor } from '../testing/tpmVendorKit.js';
import { registrationIdFromEk } from './ekRegistrationId.js';

/**
 * The ID must be the Azure IoT SDKs' to the character, so it is checked against an independent
 * implementation: Python's base64.b32encode over hashlib's SHA-256, lower-cased, `=` stripped.
 */
function pythonIds(inputs: Uint8Array[]): string[] {
  const script = [
    'import sys, json, hashlib, base64',
    'for h in json.load(sys.stdin):',
    "    print(base64.b32encode(hashlib.sha256(bytes.fromhex(h)).digest()).decode().lower().rstrip('='))",
  ].join('\n');
  const input = JSON.stringify(inputs.map((b) => Buffer.from(b).toString('hex')));
  return execFileSync('python3', ['-c', script], { input, encoding: 'utf8' }).trim().split('\n');
}

/** Bytes with a TPM2B size prefix that fits them, as registrationIdFromEk requires. */
function sized(body: Uint8Array): Uint8Array {
  return Uint8Array.from([body.length >> 8, body.length & 0xff, ...body]);
}

let vendor: TpmVendor;

beforeAll(async () => {
  vendor = await createTpmVendor({ name: 'TEST Registration ID Vendor' });
});

describe('registrationIdFromEk', () => {
  it('is what Python computes for RSA and ECC EKs: 52 characters of lower-case base32', async () => {
    const eks = [
      (await vendor.makeEk({ type: 'rsa', withCertificate: false })).ekPublic,
      (await vendor.makeEk({ type: 'ecc', withCertificate: false })).ekPublic,
    ];
    const ids = eks.map((ek) => registrationIdFromEk(ek));
    expect(ids).toEqual(pythonIds(eks));
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{52}$/);
  });

  it('hashes the size prefix too, and every byte counts', () => {
    const inputs = Array.from({ length: 64 }, (_, i) => sized(randomBytes(i + 1)));
    expect(inputs.map((b) => registrationIdFromEk(b))).toEqual(pythonIds(inputs));
    const a = sized(randomBytes(100));
    const b = Uint8Array.from(a);
    b[99]! ^= 1;
    expect(registrationIdFromEk(a)).not.toBe(registrationIdFromEk(b));
  });

  it('refuses bytes whose size prefix does not fit: a TPMT_PUBLIC passed without it', async () => {
    const { ekPublic } = await vendor.makeEk({ withCertificate: false });
    for (const bytes of [
      ekPublic.subarray(2),
      Uint8Array.of(0, 0),
      new Uint8Array(0),
      Uint8Array.of(7),
    ]) {
      expect(() => registrationIdFromEk(bytes)).toThrow(
        expect.objectContaining({ code: 'EK_PUBLIC_MALFORMED' }),
      );
    }
  });
});
