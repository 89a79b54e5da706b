import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from './passphraseKeyWrapper.js';
import {
  openSecret,
  parseSealedSecret,
  sealSecret,
  type KeyWrapper,
  type SealedSecret,
  type WrappedKey,
} from './secretBox.js';

// Low scrypt cost keeps these tests fast; passphraseKeyWrapper.test.ts covers the default.
const FAST = { scrypt: { N: 2 ** 10 } };
const wrapper = new PassphraseKeyWrapper('correct horse battery staple', FAST);
const CA_KEY = 'line-station/ca/issuing-key';
const DPS_KEY = 'line-station/dps/shared-access-key';

/** Flips one bit of a base64 field's decoded bytes and re-encodes it. */
function flipByte(sealed: SealedSecret, field: 'ciphertext' | 'tag' | 'iv', at = 0): SealedSecret {
  const bytes = Buffer.from(sealed[field], 'base64');
  bytes[at] = bytes[at]! ^ 0x01;
  return { ...sealed, [field]: bytes.toString('base64') };
}

/** A wrapper that does nothing to the key, and keeps the buffers it saw. */
class RecordingWrapper implements KeyWrapper {
  readonly kind = 'passphrase' as const;
  wrapped: Uint8Array[] = [];
  unwrapped: Uint8Array[] = [];
  async wrap(dataKey: Uint8Array): Promise<WrappedKey> {
    this.wrapped.push(dataKey);
    return { kind: this.kind, key: Buffer.from(dataKey).toString('base64') };
  }
  async unwrap(w: WrappedKey): Promise<Uint8Array> {
    const key = Buffer.from(String(w.key), 'base64');
    this.unwrapped.push(key);
    return key;
  }
}

describe('sealSecret / openSecret', () => {
  it('round-trips a secret through JSON, and the JSON does not hold it', async () => {
    const secret = randomBytes(121);
    const sealed = await sealSecret(secret, wrapper, CA_KEY);
    const text = JSON.stringify(sealed);
    expect(text).not.toContain(secret.toString('base64').slice(0, 24));
    expect(text).not.toContain(secret.toString('hex').slice(0, 32));
    expect(sealed.wrappedKey.kind).toBe('passphrase');
    const opened = await openSecret(parseSealedSecret(text), wrapper, CA_KEY);
    expect(opened.equals(secret)).toBe(true);
  });

  it('uses a fresh data key and IV for every secret', async () => {
    const secret = Buffer.from('same secret twice');
    const a = await sealSecret(secret, wrapper, CA_KEY);
    const b = await sealSecret(secret, wrapper, CA_KEY);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.iv).not.toBe(b.iv);
    expect(a.wrappedKey.wrappedKey).not.toBe(b.wrappedKey.wrappedKey);
  });

  it('zeroes the data key after sealing and after opening', async () => {
    const recorder = new RecordingWrapper();
    const sealed = await sealSecret(Buffer.from('s'), recorder, CA_KEY);
    await openSecret(sealed, recorder, CA_KEY);
    expect(recorder.wrapped).toHaveLength(1);
    expect(recorder.unwrapped).toHaveLength(1);
    for (const key of [...recorder.wrapped, ...recorder.unwrapped]) {
      expect(key.length).toBe(32);
      expect(key.every((b) => b === 0)).toBe(true);
    }
  });

  it('refuses the wrong passphrase as such', async () => {
    const sealed = await sealSecret(Buffer.from('s'), wrapper, CA_KEY);
    await expect(
      openSecret(sealed, new PassphraseKeyWrapper('wrong horse', FAST), CA_KEY),
    ).rejects.toMatchObject({ name: 'CertError', code: 'CUSTODY_WRONG_PASSPHRASE' });
  });

  it.each(['ciphertext', 'tag', 'iv'] as const)(
    'reports a flipped %s byte as corrupt',
    async (f) => {
      const sealed = await sealSecret(randomBytes(64), wrapper, CA_KEY);
      await expect(openSecret(flipByte(sealed, f, 5), wrapper, CA_KEY)).rejects.toMatchObject({
        code: 'CUSTODY_KEY_FILE_CORRUPT',
      });
    },
  );

  it('reports truncated JSON, bad base64 and wrong lengths as corrupt', async () => {
    const sealed = await sealSecret(randomBytes(64), wrapper, CA_KEY);
    const text = JSON.stringify(sealed);
    for (const cut of [0, 1, 20, Math.floor(text.length / 2), text.length - 1]) {
      expect(() => parseSealedSecret(text.slice(0, cut))).toThrow(
        expect.objectContaining({ code: 'CUSTODY_KEY_FILE_CORRUPT' }),
      );
    }
    const damaged: unknown[] = [
      { ...sealed, iv: '!!!!' + sealed.iv.slice(4) },
      { ...sealed, iv: Buffer.alloc(11).toString('base64') },
      { ...sealed, tag: sealed.tag.replace(/=*$/, '') },
      { ...sealed, version: 2 },
      { ...sealed, wrappedKey: { ...sealed.wrappedKey, kind: 'pkcs11' } },
      { ...sealed, wrappedKey: { ...sealed.wrappedKey, salt: 'AAAA' } },
      { ...sealed, wrappedKey: { ...sealed.wrappedKey, N: 2 ** 40 } },
      null,
      [],
    ];
    for (const value of damaged) {
      const reopened = Promise.resolve().then(() =>
        openSecret(parseSealedSecret(JSON.stringify(value)), wrapper, CA_KEY),
      );
      await expect(reopened).rejects.toMatchObject({ code: 'CUSTODY_KEY_FILE_CORRUPT' });
    }
  });

  it('refuses a secret sealed for another purpose, even with its label edited', async () => {
    const dpsKey = await sealSecret(randomBytes(32), wrapper, DPS_KEY);
    await expect(openSecret(dpsKey, wrapper, CA_KEY)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
      detail: expect.stringContaining(DPS_KEY),
    });
    // The stored label is only a hint; the AAD is what refuses the swap.
    const relabelled = { ...dpsKey, context: CA_KEY };
    await expect(openSecret(relabelled, wrapper, CA_KEY)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
      detail: 'sealed secret does not authenticate',
    });
    expect((await openSecret(dpsKey, wrapper, DPS_KEY)).length).toBe(32);
  });

  it('refuses a wrapped key moved over from another sealed secret', async () => {
    const a = await sealSecret(randomBytes(32), wrapper, CA_KEY);
    const b = await sealSecret(randomBytes(32), wrapper, CA_KEY);
    await expect(
      openSecret({ ...a, wrappedKey: b.wrappedKey }, wrapper, CA_KEY),
    ).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
    });
  });

  it('says so when the secret was sealed by another kind of wrapper', async () => {
    const sealed = await sealSecret(Buffer.from('s'), wrapper, CA_KEY);
    const osStore: KeyWrapper = {
      kind: 'os-keystore',
      wrap: () => Promise.reject(new Error('unused')),
      unwrap: () => Promise.reject(new Error('must not be asked')),
    };
    await expect(openSecret(sealed, osStore, CA_KEY)).rejects.toMatchObject({
      code: 'CUSTODY_WRAPPER_MISMATCH',
    });
  });
});
