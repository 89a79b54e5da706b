// What opening a sealed file may cost the station: the scrypt work its unauthenticated key
// parameters ask for, the ciphertext decoded before the passphrase is known, and the size of
// what it unzips to. bundleSeal.refusals.test.ts has the other refusals.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { CertError } from '../../certs/certErrors.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { BundleError } from './bundleErrors.js';
import { openPayload, sealPayload } from './bundleSeal.js';
import {
  CountingWrapper,
  FAST,
  PASSPHRASE,
  type Fields,
  fieldsOf,
  header,
  nestedPayload,
  outcome,
  sealGzipped,
  textOf,
  wrapper,
} from './testing/sealTestKit.js';

const MiB = 1024 * 1024;

/**
 * Answers every unwrap "wrong passphrase" at once, whatever the cost asked for: wrapped in a
 * CountingWrapper it shows whether openPayload let a key through to the wrapper, and a key let
 * through by mistake costs this test nothing.
 */
const refusing: KeyWrapper = {
  kind: 'passphrase',
  wrap: (dataKey) => wrapper.wrap(dataKey),
  unwrap: () => Promise.reject(new CertError('CUSTODY_WRONG_PASSPHRASE')),
};

/** A sealed bundle whose wrappedKey has `edits` applied (`undefined` removes the field). */
async function withCost(edits: Fields): Promise<string> {
  const fields = fieldsOf(await sealPayload(header(), nestedPayload, wrapper));
  return textOf({ ...fields, wrappedKey: { ...(fields.wrappedKey as Fields), ...edits } });
}

/** The BundleError openPayload throws; fails the test if the file opens. */
async function refusal(promise: Promise<unknown>): Promise<BundleError> {
  const err: unknown = await promise.then(
    () => new Error('opened'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

describe('the scrypt cost a sealed file asks for', () => {
  it.each([
    ['the most the wrapper allows (4 GiB per lane, 16 lanes)', 2 ** 20, 32, 16],
    ['1 GiB', 2 ** 20, 8, 1],
    ['128 MiB by N', 2 ** 17, 8, 1],
    ['128 MiB by r', 2 ** 16, 16, 1],
    ['96 MiB by p', 2 ** 15, 8, 3],
    ['p above 4 at little memory', 1024, 1, 5],
  ])('refuses %s as BUNDLE_CORRUPT before unwrapping', async (_what, N, r, p) => {
    const counting = new CountingWrapper(refusing);
    const err = await refusal(openPayload(await withCost({ N, r, p }), 'bundle', counting));
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toContain(`scrypt N=${N}, r=${r}, p=${p}`);
    expect(err.detail).toContain('64 MiB');
    expect(counting.unwraps).toBe(0);
  });

  it.each([
    ['64 MiB by N', 2 ** 16, 8, 1],
    ['64 MiB by p', 2 ** 15, 8, 2],
    ['64 MiB with p = 4', 2 ** 14, 8, 4],
    ['p = 4 at little memory', 1024, 1, 4],
  ])('hands %s to the wrapper', async (_what, N, r, p) => {
    const counting = new CountingWrapper(refusing);
    const text = await withCost({ N, r, p });
    expect(await outcome(openPayload(text, 'bundle', counting))).toBe('BUNDLE_WRONG_PASSPHRASE');
    expect(counting.unwraps).toBe(1);
  });

  it.each([
    ['N missing', { N: undefined }],
    ['N as a string', { N: '1024' }],
    ['N negative', { N: -1024 }],
    ['r fractional', { r: 8.5 }],
    ['p zero', { p: 0 }],
    ['p null', { p: null }],
  ])('refuses a key with %s as BUNDLE_CORRUPT before unwrapping', async (_what, edits) => {
    const counting = new CountingWrapper(refusing);
    const err = await refusal(openPayload(await withCost(edits), 'bundle', counting));
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(counting.unwraps).toBe(0);
  });

  it('refuses an N too large for a JSON number (read as Infinity) before unwrapping', async () => {
    const text = (await withCost({ N: 123456789 })).replace('"N":123456789', '"N":1e400');
    expect((fieldsOf(text).wrappedKey as Fields).N).toBe(Infinity);
    const counting = new CountingWrapper(refusing);
    expect(await outcome(openPayload(text, 'bundle', counting))).toBe('BUNDLE_CORRUPT');
    expect(counting.unwraps).toBe(0);
  });

  it('opens a bundle sealed at the default cost the writer uses', async () => {
    const writer = new PassphraseKeyWrapper(PASSPHRASE);
    const text = await sealPayload(header(), nestedPayload, writer);
    expect(fieldsOf(text).wrappedKey).toMatchObject({ N: 2 ** 15, r: 8, p: 1 });
    const reader = new CountingWrapper(new PassphraseKeyWrapper(PASSPHRASE, FAST));
    expect((await openPayload(text, 'bundle', reader)).payload).toEqual(nestedPayload);
    expect(reader.unwraps).toBe(1);
  });
});

describe('the ciphertext', () => {
  it('is read only once the passphrase is known to be right', async () => {
    const fields = fieldsOf(await sealPayload(header(), nestedPayload, wrapper));
    const text = textOf({ ...fields, ciphertext: '!not base64!' });
    const wrong = new CountingWrapper(new PassphraseKeyWrapper(`${PASSPHRASE}?`, FAST));
    expect(await outcome(openPayload(text, 'bundle', wrong))).toBe('BUNDLE_WRONG_PASSPHRASE');
    expect(wrong.unwraps).toBe(1);
    const right = await refusal(openPayload(text, 'bundle', wrapper));
    expect(right.code).toBe('BUNDLE_CORRUPT');
    expect(right.detail).toContain('"ciphertext"');
  });

  it('is refused before unwrapping when its iv or tag is malformed', async () => {
    const fields = fieldsOf(await sealPayload(header(), nestedPayload, wrapper));
    const counting = new CountingWrapper(refusing);
    for (const edit of [{ iv: 'AAAA' }, { tag: '!' }]) {
      const text = textOf({ ...fields, ...edit });
      expect(await outcome(openPayload(text, 'bundle', counting))).toBe('BUNDLE_CORRUPT');
    }
    expect(counting.unwraps).toBe(0);
  });
});

describe('what the contents unzip to', () => {
  // gzip members concatenate: one megabyte of spaces compresses to about a kilobyte, and the
  // same member repeated makes contents of any size without the test holding them.
  const spaceMember = gzipSync(Buffer.alloc(MiB, 0x20));

  /** Gzipped JSON `{"a":1}` padded with spaces to `bytes` in all. */
  function paddedJson(bytes: number): Buffer {
    const json = Buffer.from('{"a":1}');
    const spaces = bytes - json.length;
    const rest = spaces % MiB;
    return Buffer.concat([
      gzipSync(json),
      ...Array<Buffer>(Math.floor(spaces / MiB)).fill(spaceMember),
      ...(rest > 0 ? [gzipSync(Buffer.alloc(rest, 0x20))] : []),
    ]);
  }

  it('opens padded contents of a few MB (the padding trick works)', async () => {
    const text = await sealGzipped(header(), paddedJson(3 * MiB + 5));
    expect((await openPayload(text, 'bundle', wrapper)).payload).toEqual({ a: 1 });
  });

  // Half of V8's longest string (about 512 MiB), so the text and JSON.parse fit beside the station.
  it('refuses contents of more than 256 MiB as BUNDLE_CORRUPT', { timeout: 60_000 }, async () => {
    const text = await sealGzipped(header(), paddedJson(256 * MiB + 1));
    const err = await refusal(openPayload(text, 'bundle', wrapper));
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toBe('the contents do not decompress');
  });

  it('opens contents of exactly 256 MiB', { timeout: 60_000 }, async () => {
    const text = await sealGzipped(header(), paddedJson(256 * MiB));
    expect((await openPayload(text, 'bundle', wrapper)).payload).toEqual({ a: 1 });
  });
});
