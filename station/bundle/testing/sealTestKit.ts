/**
 * Fixtures for the sealed-file tests (never used at run time): a passphrase wrapper, headers, and
 * a nested payload with a marker to look for in what was written.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import type { SealedHeader, SealedKind } from '../bundleSeal.js';

// Low scrypt cost keeps these tests fast; passphraseKeyWrapper.test.ts covers the default.
export const FAST = { scrypt: { N: 1024 } };
export const PASSPHRASE = 'bundle passphrase on the sticky note';
export const wrapper = new PassphraseKeyWrapper(PASSPHRASE, FAST);

export function header(kind: SealedKind = 'bundle'): SealedHeader {
  return { kind, bundleId: randomUUID(), writtenAt: '2025-03-04T05:06:07.000Z' };
}

export const marker = `MARKER-${randomBytes(24).toString('hex')}`;

/** Nested JSON of every kind, with `marker` deep inside. */
export const nestedPayload = {
  format: 'line-station/outbox-bundle',
  version: 1,
  enrollments: [
    { id: 1, body: JSON.stringify({ registrationId: 'dev-1', nested: { a: [1, 2, 3] } }) },
    { id: 2, symmetricKey: marker, flags: [true, false, null], ratio: 0.25, text: 'ü €' },
  ],
  deep: { a: { b: { c: { d: [[], {}, [{ e: 'f' }]] } } } },
  empty: '',
};

export type Fields = Record<string, unknown>;

/** The file's JSON, to edit. */
export const fieldsOf = (text: string): Fields => JSON.parse(text) as Fields;
