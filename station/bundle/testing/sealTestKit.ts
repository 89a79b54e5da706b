/**
 * Fixtures for the sealed-file tests (never used at run time): a passphrase wrapper, headers, a
 * nested payload with a marker to look for in what was written, and files sealed around contents
 * sealPayload would never write.
 */
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import type { KeyWrapper, WrappedKey } from '../../../certs/custody/secretBox.js';
import { BundleError } from '../bundleErrors.js';
import {
  SEALED_BUNDLE_FORMAT,
  sealPayload,
  type SealedHeader,
  type SealedKind,
} from '../bundleSeal.js';

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

/** The file's text for `fields`, as sealPayload writes it. */
export const textOf = (fields: Fields): string => `${JSON.stringify(fields)}\n`;

/** Counts unwraps, so a test can tell a refusal came before any passphrase work. */
export class CountingWrapper implements KeyWrapper {
  readonly kind = 'passphrase' as const;
  unwraps = 0;
  constructor(private readonly inner: KeyWrapper) {}
  wrap(dataKey: Uint8Array): Promise<WrappedKey> {
    return this.inner.wrap(dataKey);
  }
  unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    this.unwraps++;
    return this.inner.unwrap(wrapped);
  }
}

/** What `promise` came to: a BundleError's code, `opened`, or any other error's name and text. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'opened';
  } catch (err) {
    return err instanceof BundleError ? err.code : String(err);
  }
}

/**
 * A sealed file, under `wrapper`'s passphrase, whose encrypted contents are `gzipped` as given
 * (sealPayload only ever gzips JSON it made). The authenticated header is written out here as
 * bundleSeal.ts makes it, so a change to that format shows up as these files failing to open.
 */
export async function sealGzipped(
  h: SealedHeader,
  gzipped: Buffer,
  sealer: KeyWrapper = wrapper,
): Promise<string> {
  const fields = fieldsOf(await sealPayload(h, null, sealer));
  const dataKey = await sealer.unwrap(fields.wrappedKey as WrappedKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: 16 });
  cipher.setAAD(
    Buffer.from(JSON.stringify([SEALED_BUNDLE_FORMAT, 1, h.kind, h.bundleId, h.writtenAt])),
  );
  const ciphertext = Buffer.concat([cipher.update(gzipped), cipher.final()]);
  dataKey.fill(0);
  return textOf({
    ...fields,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  });
}
