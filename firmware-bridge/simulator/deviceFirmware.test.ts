import { randomBytes, createHmac, generateKeyPairSync } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { encode } from 'cborg';
import { CHALLENGE_PREFIX, MessageType } from '../codec/messages.js';
import { DEFAULT_FEATURES, DeviceFirmware } from './deviceFirmware.js';
import {
  arbitraryBytes,
  IDENTITY,
  isRefused,
  makeTestCa,
  testTpm,
  withTpm,
  trackedTestDevices,
  outcomeToResult,
  verifyEcdsa,
  type TestDevice,
} from './testKit.js';

const device = trackedTestDevices();

const nonce = (): Uint8Array => new Uint8Array(randomBytes(32));
const commitId = (fill: number): Uint8Array => new Uint8Array(16).fill(fill);

/** Generates a key on the device and returns the CSR it produced. */
async function genKey(d: TestDevice, curve: 'P-256' | 'P-384' = 'P-256') {
  const res = await d.call('GEN_KEY_CSR', { curve, commonName: 'dev-1' });
  if (isRefused(res)) throw new Error(`GEN_KEY_CSR refused: ${res.refused}`);
  return new x509.Pkcs10CertificateRequest(res.csr);
}

describe('INFO', () => {
  it('announces identity, limits and features', async () => {
    const d = await device();
    expect(await d.call('INFO', { hostMaxFrame: 4096 })).toEqual({
      protocolVersion: 1,
      maxFrame: 512,
      ...IDENTITY,
      features: {
        keygenCurves: ['P-256', 'P-384'],
        tpm: false,
        symmetricKeySlot: true,
        keyInjection: true,
      },
      identityState: 0,
      maxMessage: 8192,
    });
  });
});

describe('request decoding', () => {
  it('answers invalid CBOR, a missing key and a wrong type with MALFORMED naming the field', async () => {
    const d = await device();
    const run = (type: number, data: Uint8Array) =>
      d.firmware.execute(type, data).then((o) => outcomeToResult('GET_CONFIG', o));
    expect(await run(MessageType.GET_CONFIG, new Uint8Array([0xff, 0x00]))).toMatchObject({
      refused: 'MALFORMED',
    });
    expect(await run(MessageType.GET_CONFIG, encode(new Map()))).toEqual({
      refused: 'MALFORMED',
      detail: 'bank: missing',
    });
    const wrongType = await run(MessageType.SET_CONFIG, encode(new Map([[2, 42]])));
    expect(wrongType).toMatchObject({
      refused: 'MALFORMED',
      detail: expect.stringContaining('idScope'),
    });
  });

  it('answers an unknown message type with UNKNOWN_TYPE', async () => {
    const d = await device();
    const outcome = await d.firmware.execute(0x7f, encode(new Map()));
    expect(outcome).toEqual({
      status: 'error',
      refusal: { refused: 'UNKNOWN_TYPE', detail: 'type 0x7f' },
    });
  });

  it('keeps every error detail within 64 bytes', async () => {
    const d = await device();
    // A long field path: an extra entry whose key is far too long.
    const extra = new Map([[4, new Map([['k'.repeat(200), 'v']])]]);
    const res = await d.firmware.execute(MessageType.SET_CONFIG, encode(extra));
    expect(res.status).toBe('error');
    // outcomeToResult re-encodes the detail with the wire schema (max 64 bytes).
    expect(outcomeToResult('SET_CONFIG', res)).toMatchObject({ refused: 'INVALID_ARGUMENT' });
  });
});

describe('SET_CONFIG and GET_CONFIG', () => {
  it('stages values and layers bank 1 over the committed bank', async () => {
    const d = await device();
    await d.call('SET_CONFIG', { globalEndpoint: 'dps.example', idScope: '0ne001' });
    await d.call('COMMIT', { commitId: commitId(1) });
    await d.call('SET_CONFIG', { registrationId: 'dev-1', extra: { site: 'A' } });
    expect(await d.call('GET_CONFIG', { bank: 0 })).toEqual({
      globalEndpoint: 'dps.example',
      idScope: '0ne001',
    });
    expect(await d.call('GET_CONFIG', { bank: 1 })).toEqual({
      globalEndpoint: 'dps.example',
      idScope: '0ne001',
      registrationId: 'dev-1',
      extra: { site: 'A' },
    });
  });

  it('refuses values beyond the limits with INVALID_ARGUMENT and stages nothing', async () => {
    const d = await device();
    const tooLong = encode(new Map([[2, 's'.repeat(65)]]));
    const res = outcomeToResult(
      'SET_CONFIG',
      await d.firmware.execute(MessageType.SET_CONFIG, tooLong),
    );
    expect(res).toMatchObject({
      refused: 'INVALID_ARGUMENT',
      detail: expect.stringContaining('idScope'),
    });
    const manyExtras = new Map(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const res2 = outcomeToResult(
      'SET_CONFIG',
      await d.firmware.execute(MessageType.SET_CONFIG, encode(new Map([[4, manyExtras]]))),
    );
    expect(res2).toMatchObject({ refused: 'INVALID_ARGUMENT' });
    expect(d.state.hasStaged).toBe(false);
  });
});

describe('GEN_KEY_CSR', () => {
  it.each([
    ['P-256', 'SHA-256'],
    ['P-384', 'SHA-384'],
  ] as const)(
    'makes a verifiable %s CSR for CN=<common name> and stages the key',
    async (curve, hash) => {
      const d = await device();
      const csr = await genKey(d, curve);
      expect(await csr.verify()).toBe(true);
      expect(csr.subject).toBe('CN=dev-1');
      expect(csr.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: hash } });
      expect(csr.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: curve });
      expect(csr.extensions).toHaveLength(0);
      expect(d.state.staged.identityKey?.curve).toBe(curve);
    },
  );

  it('answers NOT_SUPPORTED for a curve outside the keygen features', async () => {
    const d = await device({
      features: { keygenCurves: ['P-256'], tpm: false, symmetricKeySlot: true, keyInjection: true },
    });
    expect(await d.call('GEN_KEY_CSR', { curve: 'P-384', commonName: 'x' })).toMatchObject({
      refused: 'NOT_SUPPORTED',
    });
    const odd = encode(
      new Map<number, string>([
        [1, 'P-521'],
        [2, 'x'],
      ]),
    );
    expect(
      outcomeToResult('GEN_KEY_CSR', await d.firmware.execute(MessageType.GEN_KEY_CSR, odd)),
    ).toMatchObject({ refused: 'NOT_SUPPORTED' });
    expect(d.state.staged.identityKey).toBeUndefined();
  });

  it('stages nothing when the device reboots during key generation', async () => {
    const d = await device();
    const pending = d.firmware.execute(
      MessageType.GEN_KEY_CSR,
      encode(
        new Map([
          [1, 'P-256'],
          [2, 'x'],
        ]),
      ),
    );
    d.state.reboot();
    expect(await pending).toEqual({ status: 'aborted' });
    expect(d.state.staged.identityKey).toBeUndefined();
  });
});

describe('PUT_CERT_CHAIN', () => {
  it('answers BAD_STATE with no staged key', async () => {
    const d = await device();
    const ca = await makeTestCa();
    const other = await genKey(await device());
    expect(
      await d.call('PUT_CERT_CHAIN', { chain: [await ca.issue(other.publicKey, 'x')] }),
    ).toMatchObject({ refused: 'BAD_STATE' });
  });

  it('answers KEY_MISMATCH for a certificate of another key, MALFORMED for junk, and stages a match', async () => {
    const d = await device();
    const ca = await makeTestCa();
    const csr = await genKey(d);
    const stranger = await genKey(await device());
    expect(
      await d.call('PUT_CERT_CHAIN', { chain: [await ca.issue(stranger.publicKey, 'x')] }),
    ).toMatchObject({ refused: 'KEY_MISMATCH' });
    expect(
      await d.call('PUT_CERT_CHAIN', { chain: [new Uint8Array([0x30, 0x03, 1, 2, 3])] }),
    ).toMatchObject({ refused: 'MALFORMED' });
    expect(d.state.staged.certChain).toBeUndefined();
    const leaf = await ca.issue(csr.publicKey, 'dev-1');
    expect(await d.call('PUT_CERT_CHAIN', { chain: [leaf] })).toEqual({});
    expect(d.state.staged.certChain).toEqual([leaf]);
  });
});

describe('PUT_PRIVATE_KEY and PUT_SYMMETRIC_KEY', () => {
  const p256 = () =>
    new Uint8Array(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
        type: 'pkcs8',
        format: 'der',
      }),
    );
  const features = {
    keygenCurves: ['P-256'],
    tpm: false,
    symmetricKeySlot: true,
    keyInjection: true,
  };

  it('stages an injected key and refuses the wrong curve, junk, and devices without injection', async () => {
    const d = await device();
    expect(await d.call('PUT_PRIVATE_KEY', { curve: 'P-384', pkcs8: p256() })).toMatchObject({
      refused: 'INVALID_ARGUMENT',
    });
    expect(
      await d.call('PUT_PRIVATE_KEY', { curve: 'P-256', pkcs8: new Uint8Array([1, 2, 3]) }),
    ).toMatchObject({ refused: 'MALFORMED' });
    expect(await d.call('PUT_PRIVATE_KEY', { curve: 'P-256', pkcs8: p256() })).toEqual({});
    expect(d.state.staged.identityKey?.curve).toBe('P-256');
    const noInjection = await device({ features: { ...features, keyInjection: false } });
    expect(
      await noInjection.call('PUT_PRIVATE_KEY', { curve: 'P-256', pkcs8: p256() }),
    ).toMatchObject({ refused: 'NOT_SUPPORTED' });
  });

  it('answers LOCKED when configured to keep a committed identity', async () => {
    const d = await device({ lockCommittedIdentity: true });
    await d.call('PUT_PRIVATE_KEY', { curve: 'P-256', pkcs8: p256() });
    await d.call('COMMIT', { commitId: commitId(1) });
    expect(await d.call('PUT_PRIVATE_KEY', { curve: 'P-256', pkcs8: p256() })).toMatchObject({
      refused: 'LOCKED',
    });
  });

  it('answers NOT_SUPPORTED for a symmetric key without a key slot', async () => {
    const d = await device({ features: { ...features, symmetricKeySlot: false } });
    expect(await d.call('PUT_SYMMETRIC_KEY', { key: new Uint8Array(32) })).toMatchObject({
      refused: 'NOT_SUPPORTED',
    });
  });
});

describe('GET_EK', () => {
  it('answers NOT_SUPPORTED without a TPM', async () => {
    expect(await (await device()).call('GET_EK', {})).toMatchObject({ refused: 'NOT_SUPPORTED' });
  });

  it('answers exactly the EK public and certificate it was given, and INFO announces the TPM', async () => {
    const tpm = testTpm(1400);
    const d = await device(withTpm(tpm));
    const res = await d.call('GET_EK', {});
    expect(res).toEqual({ ekPublic: tpm.ekPublic, ekCertificate: tpm.ekCertificate });
    expect(await d.call('INFO', { hostMaxFrame: 4096 })).toMatchObject({
      features: { tpm: true },
    });
  });

  it('leaves key 2 out when the TPM holds no EK certificate', async () => {
    const tpm = testTpm(null);
    const res = await (await device(withTpm(tpm))).call('GET_EK', {});
    expect(res).toEqual({ ekPublic: tpm.ekPublic });
    expect(Object.keys(res)).toEqual(['ekPublic']);
  });

  it('keeps its own copy: the caller changing its arrays later changes nothing', async () => {
    const tpm = testTpm(600);
    const given = { ekPublic: tpm.ekPublic.slice(), ekCertificate: tpm.ekCertificate!.slice() };
    const d = await device(withTpm(given));
    given.ekPublic.fill(0);
    given.ekCertificate.fill(0);
    expect(await d.call('GET_EK', {})).toEqual(tpm);
  });

  it('hands out only the first bytes of the certificate while a read limit is set', async () => {
    const tpm = testTpm(1400);
    const faults = { ekCertificateReadLimit: 1024 as number | undefined };
    const d = await device(withTpm(tpm), undefined, faults);
    expect(await d.call('GET_EK', {})).toEqual({
      ekPublic: tpm.ekPublic,
      ekCertificate: tpm.ekCertificate!.subarray(0, 1024),
    });
    faults.ekCertificateReadLimit = undefined;
    expect(await d.call('GET_EK', {})).toEqual(tpm);
  });

  it('refuses a TPM flag without TPM contents, and contents without the flag', async () => {
    const { state } = await device();
    expect(
      () => new DeviceFirmware(state, { features: { ...DEFAULT_FEATURES, tpm: true } }),
    ).toThrow(
      new RangeError(
        'TEST000001: features.tpm is true but no TPM contents were given (tpm.ekPublic)',
      ),
    );
    expect(() => new DeviceFirmware(state, { tpm: testTpm() })).toThrow(
      new RangeError(
        'TEST000001: TPM contents were given but features.tpm is false (INFO would deny the TPM)',
      ),
    );
  });

  it.each([
    ['an EK public of 1 byte', { ekPublic: arbitraryBytes(1) }, 'ekPublic: length 1 below 2'],
    ['an EK public over 1024 bytes', { ekPublic: arbitraryBytes(1025) }, 'ekPublic: length 1025'],
    [
      'an EK certificate over 4096 bytes',
      { ekPublic: arbitraryBytes(314), ekCertificate: arbitraryBytes(4097) },
      'ekCertificate: length 4097',
    ],
  ])('refuses %s, which GET_EK could not carry', async (_, tpm, field) => {
    const { state } = await device();
    expect(() => new DeviceFirmware(state, withTpm(tpm))).toThrow(RangeError);
    expect(() => new DeviceFirmware(state, withTpm(tpm))).toThrow(`TEST000001: tpm.${field}`);
  });
});

describe('SIGN_CHALLENGE', () => {
  it.each([
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
  ] as const)(
    'signs LSCHAL1\\0 ‖ nonce with the staged %s key, verifiable with the CSR key',
    async (curve, hash) => {
      const d = await device();
      const csr = await genKey(d, curve);
      const n = nonce();
      const res = await d.call('SIGN_CHALLENGE', { nonce: n, bank: 1, kind: 1 });
      if (isRefused(res)) throw new Error(res.refused);
      const signed = Buffer.concat([Buffer.from('LSCHAL1\0', 'latin1'), n]);
      expect(verifyEcdsa(csr.publicKey.rawData, signed, res.signature, hash)).toBe(true);
      // The prefix is part of what is signed: the bare nonce does not verify.
      expect(verifyEcdsa(csr.publicKey.rawData, n, res.signature, hash)).toBe(false);
    },
  );

  it('answers BAD_STATE when the bank holds no such key', async () => {
    const d = await device();
    await genKey(d);
    expect(await d.call('SIGN_CHALLENGE', { nonce: nonce(), bank: 0, kind: 1 })).toMatchObject({
      refused: 'BAD_STATE',
    });
    expect(await d.call('SIGN_CHALLENGE', { nonce: nonce(), bank: 1, kind: 2 })).toMatchObject({
      refused: 'BAD_STATE',
    });
  });

  it('answers kind 2 with HMAC-SHA256 over the prefixed nonce', async () => {
    const d = await device();
    const key = new Uint8Array(randomBytes(32));
    await d.call('PUT_SYMMETRIC_KEY', { key });
    const n = nonce();
    const res = await d.call('SIGN_CHALLENGE', { nonce: n, bank: 1, kind: 2 });
    const expected = createHmac('sha256', key).update(CHALLENGE_PREFIX).update(n).digest();
    expect(res).toEqual({ signature: new Uint8Array(expected) });
  });
});
