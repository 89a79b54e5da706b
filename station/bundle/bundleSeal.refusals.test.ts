// What openPayload (and readSealedHeader) refuse, and with which code: a wrong passphrase or
// kind, damage anywhere in the file, and a file too large to read. bundleSeal.test.ts has the
// files that open.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealSecret } from '../../certs/custody/secretBox.js';
import { BundleError, type BundleErrorCode } from './bundleErrors.js';
import { MAX_SEALED_FILE_BYTES, openPayload, readSealedHeader, sealPayload } from './bundleSeal.js';
import {
  CountingWrapper,
  FAST,
  PASSPHRASE,
  type Fields,
  fieldsOf,
  header,
  nestedPayload,
  outcome,
  textOf,
  wrapper,
} from './testing/sealTestKit.js';

/** The file with one top-level field (or one wrappedKey field) replaced. */
function withField(text: string, name: string, value: unknown): string {
  return textOf({ ...fieldsOf(text), [name]: value });
}

function withWrappedKeyField(text: string, name: string, value: unknown): string {
  const fields = fieldsOf(text);
  return textOf({ ...fields, wrappedKey: { ...(fields.wrappedKey as Fields), [name]: value } });
}

/** `base64` with one character at `at` replaced by another base64 character. */
function flipChar(base64: string, at: number): string {
  const replacement = base64[at] === 'A' ? 'B' : 'A';
  return `${base64.slice(0, at)}${replacement}${base64.slice(at + 1)}`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * `base64` (padded) with the lowest bit of its last character flipped: with one or two `=` that
 * bit is padding, so the text decodes to the same bytes but is no longer the canonical form.
 */
function flipPaddingBit(base64: string): string {
  const at = base64.replace(/=+$/, '').length - 1;
  if (at === base64.length - 1) throw new Error('no padding to play with');
  const flipped = ALPHABET[ALPHABET.indexOf(base64[at]!) ^ 1]!;
  return `${base64.slice(0, at)}${flipped}${base64.slice(at + 1)}`;
}

async function expectCode(promise: Promise<unknown>, code: BundleErrorCode): Promise<void> {
  expect(await outcome(promise)).toBe(code);
}

describe('openPayload refusals', () => {
  it('refuses a wrong passphrase as BUNDLE_WRONG_PASSPHRASE', async () => {
    const text = await sealPayload(header(), nestedPayload, wrapper);
    const wrong = new PassphraseKeyWrapper(`${PASSPHRASE}!`, FAST);
    const err: unknown = await openPayload(text, 'bundle', wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).code).toBe('BUNDLE_WRONG_PASSPHRASE');
    expect(JSON.stringify((err as BundleError).toJSON())).not.toContain('sticky');
  });

  it('refuses a receipt asked for as a bundle before any passphrase work, and vice versa', async () => {
    const receipt = await sealPayload(header('receipt'), nestedPayload, wrapper);
    const bundle = await sealPayload(header('bundle'), nestedPayload, wrapper);
    const counting = new CountingWrapper(new PassphraseKeyWrapper('not the passphrase', FAST));
    await expectCode(openPayload(receipt, 'bundle', counting), 'BUNDLE_WRONG_KIND');
    await expectCode(openPayload(bundle, 'receipt', counting), 'BUNDLE_WRONG_KIND');
    // Even a file whose key is unreadable is refused for its kind first.
    const broken = withField(receipt, 'wrappedKey', { kind: 'passphrase' });
    await expectCode(openPayload(broken, 'bundle', counting), 'BUNDLE_WRONG_KIND');
    expect(counting.unwraps).toBe(0);
    // The counter does count: the same wrapper, asked for the right kind, does unwrap.
    await expectCode(openPayload(receipt, 'receipt', counting), 'BUNDLE_WRONG_PASSPHRASE');
    expect(counting.unwraps).toBe(1);
  });

  describe('a flipped character', () => {
    it.each([
      ['ciphertext', 'first', 0],
      ['ciphertext', 'middle', 0.5],
      ['ciphertext', 'last data', 1],
      ['tag', 'first', 0],
      ['tag', 'middle', 0.5],
      ['iv', 'first', 0],
      ['iv', 'last', 1],
    ] as const)('in the %s (%s character) is BUNDLE_CORRUPT', async (field, _where, at) => {
      const text = await sealPayload(header(), nestedPayload, wrapper);
      const value = fieldsOf(text)[field] as string;
      // Only characters that carry whole bits: the one before the padding may hold padding bits.
      const dataChars = value.replace(/=+$/, '').length - (value.endsWith('=') ? 1 : 0);
      const index = Math.min(Math.floor(at * dataChars), dataChars - 1);
      const edited = withField(text, field, flipChar(value, index));
      await expectCode(openPayload(edited, 'bundle', wrapper), 'BUNDLE_CORRUPT');
    });
  });

  describe('an edited header (it is authenticated)', () => {
    it('a bundleId changed to another valid UUID is BUNDLE_CORRUPT', async () => {
      const text = await sealPayload(header(), nestedPayload, wrapper);
      const edited = withField(text, 'bundleId', randomUUID());
      expect(() => readSealedHeader(edited)).not.toThrow();
      await expectCode(openPayload(edited, 'bundle', wrapper), 'BUNDLE_CORRUPT');
    });

    it.each(['2025-03-04T05:06:08.000Z', '2025-03-04T05:06:07Z', '2025-03-04T05:06:07.000+00:00'])(
      'writtenAt changed to %s is BUNDLE_CORRUPT',
      async (writtenAt) => {
        const text = await sealPayload(header(), nestedPayload, wrapper);
        await expectCode(
          openPayload(withField(text, 'writtenAt', writtenAt), 'bundle', wrapper),
          'BUNDLE_CORRUPT',
        );
      },
    );

    it.each([
      ['receipt', 'bundle'],
      ['bundle', 'receipt'],
    ] as const)(
      'kind %s swapped to %s, and asked for as such, is BUNDLE_CORRUPT',
      async (from, to) => {
        const text = await sealPayload(header(from), nestedPayload, wrapper);
        const edited = withField(text, 'kind', to);
        await expectCode(openPayload(edited, to, wrapper), 'BUNDLE_CORRUPT');
      },
    );

    it('the wrapped key of another file under the same passphrase is BUNDLE_CORRUPT', async () => {
      const text = await sealPayload(header(), nestedPayload, wrapper);
      const other = fieldsOf(await sealPayload(header(), nestedPayload, wrapper));
      const edited = withField(text, 'wrappedKey', other.wrappedKey);
      await expectCode(openPayload(edited, 'bundle', wrapper), 'BUNDLE_CORRUPT');
    });

    it.each([
      ['cipher', 'AES-128-GCM'],
      ['compression', 'none'],
      ['version', 2],
      ['kind', 'outbox'],
      ['bundleId', 'B-1'],
      ['writtenAt', 'yesterday'],
    ])('%s set to %j is BUNDLE_CORRUPT', async (name, value) => {
      const text = await sealPayload(header(), nestedPayload, wrapper);
      await expectCode(
        openPayload(withField(text, name, value), 'bundle', wrapper),
        'BUNDLE_CORRUPT',
      );
    });
  });

  it('opens a bundle that gained a byte-order mark, indentation or another key order', async () => {
    const text = await sealPayload(header(), nestedPayload, wrapper);
    const fields = fieldsOf(text);
    const reordered = Object.fromEntries(Object.entries(fields).reverse());
    for (const copy of [
      `\uFEFF${text}`,
      JSON.stringify(fields, null, 2),
      `\r\n ${JSON.stringify(reordered)}\r\n`,
    ]) {
      expect((await openPayload(copy, 'bundle', wrapper)).payload).toEqual(nestedPayload);
    }
  });

  it('calls a bundle whose format was changed another file', async () => {
    const text = await sealPayload(header(), nestedPayload, wrapper);
    const edited = withField(text, 'format', 'line-station/sealed-secret');
    await expectCode(openPayload(edited, 'bundle', wrapper), 'BUNDLE_NOT_A_BUNDLE');
  });

  it('refuses a file cut at any point as BUNDLE_CORRUPT', async () => {
    const text = await sealPayload(header(), { small: true }, wrapper);
    const counting = new CountingWrapper(wrapper);
    // Every cut short of the closing brace; without only the final newline the file is whole.
    const otherwise: string[] = [];
    for (let at = 0; at <= text.length - 2; at++) {
      const result = await outcome(openPayload(text.slice(0, at), 'bundle', counting));
      if (result !== 'BUNDLE_CORRUPT') otherwise.push(`cut at ${at}: ${result}`);
    }
    expect(otherwise).toEqual([]);
    expect(counting.unwraps).toBe(0);
    expect((await openPayload(text.slice(0, -1), 'bundle', wrapper)).payload).toEqual({
      small: true,
    });
  });

  it('tells another file (BUNDLE_NOT_A_BUNDLE) from a damaged one (BUNDLE_CORRUPT)', async () => {
    const otherFormat = JSON.stringify(await sealSecret(Buffer.from('ca key'), wrapper, 'ca'));
    const sealed = fieldsOf(await sealPayload(header(), nestedPayload, wrapper));
    const other = 'BUNDLE_NOT_A_BUNDLE';
    const damaged = 'BUNDLE_CORRUPT';
    const cases: [string, string, string][] = [
      ['empty text', '', damaged],
      ['a line break', '\n', damaged],
      ['zeros, as a stick pulled mid-write leaves it', '\0'.repeat(512), damaged],
      // A fixed first byte: random bytes that began with `{` would read as a cut-short bundle.
      ['random bytes as latin1', `x${randomBytes(512).toString('latin1')}`, other],
      ['random bytes as UTF-8', `x${randomBytes(512).toString('utf8')}`, other],
      ['control characters', '\u0000\u0001\u0002', other],
      ['an empty array', '[]', other],
      ['the file in an array', JSON.stringify([sealed]), other],
      ['null', 'null', other],
      ['a number', '42', other],
      ['a string', '"line-station/sealed-bundle"', other],
      ['an empty object', '{}', other],
      ['a sealed CA secret', otherFormat, other],
      ['the file marked as another format', JSON.stringify({ ...sealed, format: 'other' }), other],
      ['the file without format', JSON.stringify({ ...sealed, format: undefined }), other],
      ['the file with version "1"', JSON.stringify({ ...sealed, version: '1' }), damaged],
    ];
    const results: string[] = [];
    for (const [what, text] of cases) {
      results.push(`${what}: ${await outcome(openPayload(text, 'bundle', wrapper))}`);
      results.push(
        `${what} (header): ${await outcome(Promise.resolve().then(() => readSealedHeader(text)))}`,
      );
    }
    expect(results).toEqual(
      cases.flatMap(([what, , code]) => [`${what}: ${code}`, `${what} (header): ${code}`]),
    );
  });

  it('refuses ciphertext, tag or iv that is not canonical base64 as BUNDLE_CORRUPT', async () => {
    // Find a payload whose ciphertext ends in padding, so its padding bits can be set.
    let text = await sealPayload(header(), nestedPayload, wrapper);
    for (let filler = 'x'; !(fieldsOf(text).ciphertext as string).endsWith('='); filler += 'x') {
      text = await sealPayload(header(), { ...nestedPayload, filler }, wrapper);
    }
    const fields = fieldsOf(text);
    const ciphertext = fields.ciphertext as string;
    const tag = fields.tag as string;
    const iv = fields.iv as string;
    // Each decodes to bytes, and all but the last three to the very bytes that were written, so
    // Buffer.from alone would open the file.
    const cases: [string, string, string][] = [
      ['ciphertext', 'padding bits set', flipPaddingBit(ciphertext)],
      ['ciphertext', 'padding dropped', ciphertext.replace(/=+$/, '')],
      ['ciphertext', 'a line break inside', `${ciphertext.slice(0, 8)}\n${ciphertext.slice(8)}`],
      ['ciphertext', 'a leading space', ` ${ciphertext}`],
      ['ciphertext', 'extra padding', `${ciphertext}====`],
      ['ciphertext', 'base64url', ciphertext.replace(/[+/]/g, (c) => (c === '+' ? '-' : '_'))],
      ['tag', 'padding bits set', flipPaddingBit(tag)],
      ['tag', 'padding dropped', tag.replace(/=+$/, '')],
      ['iv', 'a trailing CRLF', `${iv}\r\n`],
      ['iv', '16 bytes', randomBytes(16).toString('base64')],
      ['tag', '12 bytes', randomBytes(12).toString('base64')],
      ['ciphertext', 'empty', ''],
    ];
    const results: string[] = [];
    for (const [field, what, value] of cases) {
      expect(value).not.toBe(fields[field]);
      const edited = withField(text, field, value);
      results.push(`${field} ${what}: ${await outcome(openPayload(edited, 'bundle', wrapper))}`);
    }
    expect(results).toEqual(cases.map(([field, what]) => `${field} ${what}: BUNDLE_CORRUPT`));
    expect(ciphertext).toMatch(/[+/]/); // else the base64url case above edits nothing
    expect((await openPayload(text, 'bundle', wrapper)).payload).toMatchObject(nestedPayload);
  });

  it.each([
    ['salt changed', 'BUNDLE_WRONG_PASSPHRASE', 'salt', randomBytes(16).toString('base64')],
    ['N changed within range', 'BUNDLE_WRONG_PASSPHRASE', 'N', 2048],
    ['check changed', 'BUNDLE_WRONG_PASSPHRASE', 'check', randomBytes(32).toString('base64')],
    ['N above range', 'BUNDLE_CORRUPT', 'N', 2 ** 21],
    ['N below range', 'BUNDLE_CORRUPT', 'N', 2 ** 9],
    ['N no power of two', 'BUNDLE_CORRUPT', 'N', 1500],
    ['N a string', 'BUNDLE_CORRUPT', 'N', '1024'],
    ['salt too short', 'BUNDLE_CORRUPT', 'salt', randomBytes(8).toString('base64')],
    ['salt not base64', 'BUNDLE_CORRUPT', 'salt', '!!!!'],
    ['wrapped key changed', 'BUNDLE_CORRUPT', 'wrappedKey', randomBytes(32).toString('base64')],
    ['kind another wrapper', 'BUNDLE_CORRUPT', 'kind', 'os-keystore'],
    ['kdf another', 'BUNDLE_CORRUPT', 'kdf', 'pbkdf2'],
  ] as const)('a wrappedKey with %s is %s', async (_what, code, name, value) => {
    // Salt, N and check feed the passphrase check, so the wrapper (by design) cannot tell
    // their damage from a wrong passphrase; the rest is caught as damage.
    const text = await sealPayload(header(), nestedPayload, wrapper);
    await expectCode(openPayload(withWrappedKeyField(text, name, value), 'bundle', wrapper), code);
  });

  it('refuses a wrappedKey that is no object as BUNDLE_CORRUPT', async () => {
    const text = await sealPayload(header(), nestedPayload, wrapper);
    for (const value of [null, 'key', [], undefined]) {
      await expectCode(
        openPayload(withField(text, 'wrappedKey', value), 'bundle', wrapper),
        'BUNDLE_CORRUPT',
      );
    }
  });
});

describe('the size guard', () => {
  // ' '.repeat() builds a rope, so the string costs almost nothing until something reads its
  // characters; a file that only trailing whitespace makes too large would otherwise parse.
  const tooLong = MAX_SEALED_FILE_BYTES * 1.01 + 1;

  it('refuses a file above the limit as BUNDLE_TOO_LARGE without reading it', async () => {
    const text = await sealPayload(header(), nestedPayload, wrapper);
    const padded = text + ' '.repeat(Math.ceil(tooLong) - text.length);
    expect(padded.length).toBeGreaterThan(MAX_SEALED_FILE_BYTES * 1.01);
    expect(() => readSealedHeader(padded)).toThrow(
      expect.objectContaining({ code: 'BUNDLE_TOO_LARGE' }),
    );
    const counting = new CountingWrapper(wrapper);
    await expectCode(openPayload(padded, 'bundle', counting), 'BUNDLE_TOO_LARGE');
    expect(counting.unwraps).toBe(0);
    // The same file with a little whitespace is read as usual.
    expect(readSealedHeader(`${text}    `).kind).toBe('bundle');
  });
});
