// Sealing and opening a file that is whole; bundleSeal.refusals.test.ts has what is refused.
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { findNeedles, secretEncodings } from '../../certs/testing/secretNeedles.js';
import {
  SEALED_BUNDLE_FORMAT,
  openPayload,
  readSealedHeader,
  sealPayload,
  type SealedHeader,
} from './bundleSeal.js';
import {
  FAST,
  PASSPHRASE,
  type Fields,
  fieldsOf,
  header,
  marker,
  nestedPayload,
  wrapper,
} from './testing/sealTestKit.js';

describe('sealPayload / openPayload', () => {
  it('round-trips nested JSON and gives back the header', async () => {
    const h = header('receipt');
    const text = await sealPayload(h, nestedPayload, wrapper);
    expect(text.endsWith('}\n')).toBe(true);
    const opened = await openPayload(text, 'receipt', wrapper);
    expect(opened.payload).toEqual(nestedPayload);
    expect(opened.header).toEqual(h);
    // Opening needs only the passphrase, not the wrapper that sealed.
    const other = new PassphraseKeyWrapper(PASSPHRASE, FAST);
    expect((await openPayload(text, 'receipt', other)).payload).toEqual(nestedPayload);
  });

  it('holds neither the payload nor its base64, and is no plain gzip', async () => {
    const text = await sealPayload(header(), nestedPayload, wrapper);
    const needles = [
      ...secretEncodings('marker', Buffer.from(marker)),
      ...secretEncodings('payload JSON', Buffer.from(JSON.stringify(nestedPayload))),
    ];
    expect(findNeedles('sealed file', Buffer.from(text), needles)).toEqual([]);
    expect(text).not.toContain('MARKER-');
    const ciphertext = Buffer.from(fieldsOf(text).ciphertext as string, 'base64');
    expect(() => gunzipSync(ciphertext)).toThrow();
  });

  it('writes the header in clear, and nothing else of it', async () => {
    const h = header();
    const text = await sealPayload(h, nestedPayload, wrapper);
    const fields = fieldsOf(text);
    expect(fields).toMatchObject({ format: SEALED_BUNDLE_FORMAT, version: 1, ...h });
    expect(Object.keys(fields).sort()).toEqual(
      [
        'format',
        'version',
        'kind',
        'bundleId',
        'writtenAt',
        'wrappedKey',
        'cipher',
        'compression',
        'iv',
        'tag',
        'ciphertext',
      ].sort(),
    );
    const { fields: _fields, ...read } = readSealedHeader(text);
    expect(read).toEqual(h);
  });

  it('does not write a property the header object happens to carry', async () => {
    const h = header();
    // readSealedHeader's result is a SealedHeader too, and carries the whole file besides.
    const carrying = { ...h, fields: { secret: marker }, format: 'something else' };
    const text = await sealPayload(carrying, nestedPayload, wrapper);
    expect(text.includes(marker)).toBe(false);
    expect(readSealedHeader(text).kind).toBe('bundle');
    expect((await openPayload(text, 'bundle', wrapper)).header).toEqual(h);
  });

  it('uses a fresh data key and IV for every file', async () => {
    const h = header();
    const a = fieldsOf(await sealPayload(h, nestedPayload, wrapper));
    const b = fieldsOf(await sealPayload(h, nestedPayload, wrapper));
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.iv).not.toBe(b.iv);
    expect((a.wrappedKey as Fields).wrappedKey).not.toBe((b.wrappedKey as Fields).wrappedKey);
  });

  it('refuses to seal under a header it could not read back', async () => {
    const h = header();
    for (const bad of [
      { ...h, bundleId: h.bundleId.toUpperCase() },
      { ...h, bundleId: 'bundle-1' },
      { ...h, writtenAt: 'soon' },
      { ...h, kind: 'outbox' },
    ]) {
      await expect(sealPayload(bad as SealedHeader, nestedPayload, wrapper)).rejects.toThrow(
        RangeError,
      );
    }
  });

  it('round-trips a payload of several MB of incompressible text', async () => {
    // Random base64 does not gzip away, so the ciphertext field is several million characters.
    const entries = Array.from({ length: 20_000 }, (_, id) => ({
      id,
      registrationId: `dev-${id}`,
      blob: randomBytes(300).toString('base64'),
    }));
    const payload = { entries };
    const text = await sealPayload(header(), payload, wrapper);
    expect((fieldsOf(text).ciphertext as string).length).toBeGreaterThan(8_000_000);
    const opened = await openPayload(text, 'bundle', wrapper);
    // Compared as text: a failing toEqual would print a diff of megabytes.
    expect(JSON.stringify(opened.payload) === JSON.stringify(payload)).toBe(true);
  });
});
