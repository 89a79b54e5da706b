import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { DEFAULT_SCRYPT_PARAMS, PassphraseKeyWrapper } from './passphraseKeyWrapper.js';
import type { WrappedKey } from './secretBox.js';

const FAST = { scrypt: { N: 2 ** 10 } };

function withField(w: WrappedKey, field: string, value: string | number): WrappedKey {
  return { ...w, [field]: value };
}

function flipBase64(text: string, at: number): string {
  const bytes = Buffer.from(text, 'base64');
  bytes[at] = bytes[at]! ^ 0x80;
  return bytes.toString('base64');
}

describe('PassphraseKeyWrapper', () => {
  it('uses scrypt N=2^15, r=8, p=1 and a 16-byte salt by default, and reads that back', async () => {
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 32768, r: 8, p: 1 });
    const wrapper = new PassphraseKeyWrapper('a strong default');
    const dataKey = randomBytes(32);
    const wrapped = await wrapper.wrap(dataKey);
    expect(wrapped).toMatchObject({ kind: 'passphrase', kdf: 'scrypt', N: 32768, r: 8, p: 1 });
    expect(Buffer.from(String(wrapped.salt), 'base64')).toHaveLength(16);
    expect(Buffer.from(await wrapper.unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it('derives from the stored parameters, not from its own', async () => {
    const dataKey = randomBytes(32);
    const wrapped = await new PassphraseKeyWrapper('pw', { scrypt: { N: 2 ** 11, r: 4 } }).wrap(
      dataKey,
    );
    expect(wrapped).toMatchObject({ N: 2048, r: 4, p: 1 });
    const reader = new PassphraseKeyWrapper('pw', FAST);
    expect(Buffer.from(await reader.unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it('tells a wrong passphrase apart from a damaged wrapped key', async () => {
    const wrapper = new PassphraseKeyWrapper('right', FAST);
    const wrapped = await wrapper.wrap(randomBytes(32));
    await expect(new PassphraseKeyWrapper('wrong', FAST).unwrap(wrapped)).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    for (const field of ['wrappedKey', 'tag', 'iv']) {
      const damaged = withField(wrapped, field, flipBase64(String(wrapped[field]), 3));
      await expect(wrapper.unwrap(damaged)).rejects.toMatchObject({
        code: 'CUSTODY_KEY_FILE_CORRUPT',
      });
    }
  });

  it('refuses malformed fields without running scrypt on them', async () => {
    const wrapper = new PassphraseKeyWrapper('right', FAST);
    const wrapped = await wrapper.wrap(randomBytes(32));
    const damaged: WrappedKey[] = [
      withField(wrapped, 'N', 3000),
      withField(wrapped, 'N', 2 ** 30),
      withField(wrapped, 'r', 0),
      withField(wrapped, 'kdf', 'pbkdf2'),
      withField(wrapped, 'salt', Buffer.alloc(8).toString('base64')),
      withField(wrapped, 'check', 'not base64!'),
      withField(wrapped, 'wrappedKey', Buffer.alloc(31).toString('base64')),
      { kind: 'passphrase' },
    ];
    for (const w of damaged) {
      await expect(wrapper.unwrap(w)).rejects.toMatchObject({ code: 'CUSTODY_KEY_FILE_CORRUPT' });
    }
  });

  it('normalises the passphrase, so composed and decomposed accents unlock alike', async () => {
    const composed = 'Gr\u00fc\u00dfe, J\u00e9r\u00f4me';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const dataKey = randomBytes(32);
    const wrapped = await new PassphraseKeyWrapper(composed, FAST).wrap(dataKey);
    const opened = await new PassphraseKeyWrapper(decomposed, FAST).unwrap(wrapped);
    expect(Buffer.from(opened).equals(dataKey)).toBe(true);
  });

  it('refuses an empty passphrase and out-of-range costs up front', () => {
    expect(() => new PassphraseKeyWrapper('')).toThrow(RangeError);
    expect(() => new PassphraseKeyWrapper('pw', { scrypt: { N: 2 ** 4 } })).toThrow(RangeError);
    expect(() => new PassphraseKeyWrapper('pw', { scrypt: { N: 1000 } })).toThrow(RangeError);
  });

  it('a session wrapper derives once per salt: many secrets, one scrypt, same file format', async () => {
    const plain = new PassphraseKeyWrapper('line passphrase');
    const session = new PassphraseKeyWrapper('line passphrase', { session: true });
    const keys = Array.from({ length: 20 }, () => randomBytes(32));
    const started = performance.now();
    const wrapped = [];
    for (const key of keys) wrapped.push(await session.wrap(key));
    const sessionMs = performance.now() - started;
    expect(new Set(wrapped.map((w) => w.salt)).size).toBe(1);
    expect(new Set(wrapped.map((w) => w.iv)).size).toBe(20);
    for (const [i, w] of wrapped.entries()) {
      expect(Buffer.from(await session.unwrap(w))).toEqual(keys[i]);
    }
    // Readable by any wrapper with the passphrase; a wrong one is still told apart.
    const oneScryptStarted = performance.now();
    expect(Buffer.from(await plain.unwrap(wrapped[0]!))).toEqual(keys[0]);
    const oneScryptMs = performance.now() - oneScryptStarted;
    // 20 wraps and 20 unwraps cost about one scrypt, not forty (a ratio, measured in this run).
    expect(sessionMs).toBeLessThan(oneScryptMs * 5);
    await expect(
      new PassphraseKeyWrapper('other', { session: true }).unwrap(wrapped[1]!),
    ).rejects.toMatchObject({ code: 'CUSTODY_WRONG_PASSPHRASE' });
    // An ordinary wrapper keeps a fresh salt per key; forget() starts a new session salt.
    expect((await plain.wrap(keys[0]!)).salt).not.toBe((await plain.wrap(keys[0]!)).salt);
    await session.forget();
    expect((await session.wrap(keys[0]!)).salt).not.toBe(wrapped[0]!.salt);
  });
});
