import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KeyWrapper, WrappedKey } from '../../certs/custody/secretBox.js';
import { BundleError } from './bundleErrors.js';

/**
 * The sealed file that carries the outbox across an air gap, and the receipt that comes back.
 * One envelope for both: the JSON payload is gzipped, then encrypted with AES-256-GCM under a
 * fresh data key, and only that key is wrapped under the bundle passphrase (scrypt, as the CA
 * key is). The clear header (format, kind, bundle ID, when written) is authenticated with the
 * ciphertext, so a receipt passed off as a bundle, or a bundle given another ID, fails to open.
 *
 * The passphrase is the bundle's own, not the CA's: the machine that reaches DPS never learns
 * the CA passphrase, and a lost USB stick holds nothing readable without it.
 */

export const SEALED_BUNDLE_FORMAT = 'line-station/sealed-bundle';

/** `bundle`: enrollments going to DPS; `receipt`: what DPS answered, coming back. */
export type SealedKind = 'bundle' | 'receipt';

/** What anyone can read of a sealed file without the passphrase. */
export interface SealedHeader {
  kind: SealedKind;
  bundleId: string;
  /** ISO 8601. */
  writtenAt: string;
}

/**
 * Files above this are refused before parsing: far above what the export writes (20,000
 * enrollments with their certificates gzip to a few tens of MB) and below what a JSON string can
 * hold, so a wrong or hostile file costs a stat, not the station's memory.
 */
export const MAX_SEALED_FILE_BYTES = 256 * 1024 * 1024;
/**
 * The gunzipped payload at most: half of the longest string V8 makes (about 512 MiB), so the
 * text and JSON.parse's work on it fit beside the running station.
 */
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
/**
 * The scrypt cost a bundle's data key may ask for before the passphrase is tried. The wrapper
 * itself allows up to 4 GiB (for a CA key a supervisor opens on purpose), but the cost is read
 * from the file, unauthenticated, and bundles are opened beside the live station: the writer
 * uses 32 MiB (N = 2^15, r = 8, p = 1), so twice that is room to raise it, no more.
 */
const MAX_UNWRAP_MEMORY_BYTES = 64 * 1024 * 1024;
const MAX_UNWRAP_PARALLELISM = 4;
const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * A bundle ID as randomUUID() writes it (lowercase). One form everywhere: in the header, in the
 * payloads, and in the work store's file name, where it can hold no separator or `..`.
 */
export const BUNDLE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function additionalData(header: SealedHeader): Buffer {
  return Buffer.from(
    JSON.stringify([SEALED_BUNDLE_FORMAT, 1, header.kind, header.bundleId, header.writtenAt]),
    'utf8',
  );
}

/** Seals `payload` (plain JSON data) as the text of a bundle or receipt file. */
export async function sealPayload(
  header: SealedHeader,
  payload: unknown,
  wrapper: KeyWrapper,
): Promise<string> {
  if (!BUNDLE_ID.test(header.bundleId)) throw new RangeError('bundleId must be a lowercase UUID');
  // Refused here, not by the machine that reads the file back (readSealedHeader checks the same).
  if (header.kind !== 'bundle' && header.kind !== 'receipt') throw new RangeError('unknown kind');
  if (Number.isNaN(Date.parse(header.writtenAt))) throw new RangeError('writtenAt is not a date');
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(header));
    const clear = gzipSync(Buffer.from(JSON.stringify(payload), 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(clear), cipher.final()]);
    clear.fill(0);
    const wrappedKey = await wrapper.wrap(dataKey);
    return `${JSON.stringify({
      format: SEALED_BUNDLE_FORMAT,
      version: 1,
      // Named, not spread: a header object may carry more (readSealedHeader's result does).
      kind: header.kind,
      bundleId: header.bundleId,
      writtenAt: header.writtenAt,
      wrappedKey,
      cipher: 'AES-256-GCM',
      compression: 'gzip',
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    })}\n`;
  } finally {
    dataKey.fill(0);
  }
}

/** A sealed file parsed once: its checked header, and all its fields for openPayload. */
export type ReadSealed = SealedHeader & { fields: Record<string, unknown> };

/** The clear header of a sealed file, checked; BUNDLE_CORRUPT when it is not one. */
export function readSealedHeader(text: string): ReadSealed {
  if (text.length > MAX_SEALED_FILE_BYTES * 1.01) {
    throw new BundleError('BUNDLE_TOO_LARGE', `${text.length} characters`);
  }
  // A copy through another editor may gain a byte-order mark; JSON allows the rest of the
  // whitespace it may gain.
  const json = text.replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    // Cut short, or zeroed by a stick pulled mid-write: damage. Anything else is another file.
    const head = json.trimStart();
    if (head === '' || head.startsWith('{') || /^\0+$/.test(head)) {
      throw new BundleError('BUNDLE_CORRUPT', 'not a sealed bundle file (not JSON: truncated?)');
    }
    throw new BundleError('BUNDLE_NOT_A_BUNDLE', 'the file is not JSON');
  }
  const fields = (
    typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
  ) as Record<string, unknown>;
  if (fields.format !== SEALED_BUNDLE_FORMAT) {
    throw new BundleError('BUNDLE_NOT_A_BUNDLE', 'the file is not a sealed bundle or receipt');
  }
  if (fields.version !== 1) {
    throw new BundleError('BUNDLE_CORRUPT', 'not a version 1 sealed bundle file');
  }
  const { kind, bundleId, writtenAt } = fields;
  if (kind !== 'bundle' && kind !== 'receipt') {
    throw new BundleError('BUNDLE_CORRUPT', 'unknown kind of sealed file');
  }
  if (typeof bundleId !== 'string' || !BUNDLE_ID.test(bundleId)) {
    throw new BundleError('BUNDLE_CORRUPT', 'field "bundleId" is not a bundle ID');
  }
  if (typeof writtenAt !== 'string' || Number.isNaN(Date.parse(writtenAt))) {
    throw new BundleError('BUNDLE_CORRUPT', 'field "writtenAt" is not a date');
  }
  return { kind, bundleId, writtenAt, fields };
}

/**
 * Opens a sealed file of the expected `kind`, as text or as readSealedHeader read it (a file of
 * tens of MB is then parsed once), and returns its header and parsed JSON payload (the caller
 * validates the payload's shape). Throws BundleError: BUNDLE_WRONG_KIND,
 * BUNDLE_WRONG_PASSPHRASE, BUNDLE_CORRUPT, BUNDLE_TOO_LARGE.
 */
export async function openPayload(
  sealed: string | ReadSealed,
  kind: SealedKind,
  wrapper: KeyWrapper,
): Promise<{ header: SealedHeader; payload: unknown }> {
  const { fields, ...header } = typeof sealed === 'string' ? readSealedHeader(sealed) : sealed;
  if (header.kind !== kind) {
    throw new BundleError(
      'BUNDLE_WRONG_KIND',
      `a ${header.kind} file, where a ${kind} was expected`,
    );
  }
  if (fields.cipher !== 'AES-256-GCM' || fields.compression !== 'gzip') {
    throw new BundleError('BUNDLE_CORRUPT', 'unknown cipher or compression');
  }
  const iv = base64(fields, 'iv', IV_BYTES);
  const tag = base64(fields, 'tag', TAG_BYTES);
  const wrapped = fields.wrappedKey;
  if (typeof wrapped !== 'object' || wrapped === null || Array.isArray(wrapped)) {
    throw new BundleError('BUNDLE_CORRUPT', 'field "wrappedKey" is not an object');
  }
  const dataKey = await unwrap(wrapper, wrapped as WrappedKey);
  try {
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw new BundleError('BUNDLE_CORRUPT', 'the data key has the wrong length');
    }
    // Decoded only now: the ciphertext is most of the file, and a wrong passphrase (the usual
    // mistake) should cost no copy of it.
    const ciphertext = base64(fields, 'ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(header));
    decipher.setAuthTag(tag);
    let clear: Buffer;
    try {
      clear = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      // The passphrase check passed, so this is damage (or an edited header), not a wrong secret.
      throw new BundleError('BUNDLE_CORRUPT', 'the contents do not authenticate');
    }
    return { header, payload: parseClear(clear) };
  } finally {
    dataKey.fill(0);
  }
}

async function unwrap(wrapper: KeyWrapper, wrapped: WrappedKey): Promise<Buffer> {
  if (wrapped.kind !== wrapper.kind) {
    throw new BundleError('BUNDLE_CORRUPT', `the data key is wrapped by "${String(wrapped.kind)}"`);
  }
  if (wrapped.kind === 'passphrase') checkScryptCost(wrapped);
  try {
    const key = await wrapper.unwrap(wrapped);
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'CUSTODY_WRONG_PASSPHRASE') {
      throw new BundleError('BUNDLE_WRONG_PASSPHRASE', undefined, { cause: err });
    }
    throw new BundleError('BUNDLE_CORRUPT', 'the wrapped data key is damaged', { cause: err });
  }
}

/**
 * Refuses a passphrase-wrapped key whose scrypt cost (read from the file, not authenticated) is
 * above what a bundle is sealed with, before the wrapper allocates and spins for it.
 */
function checkScryptCost(wrapped: WrappedKey): void {
  const cost = [wrapped.N, wrapped.r, wrapped.p];
  if (!cost.every((n) => Number.isSafeInteger(n) && (n as number) > 0)) {
    throw new BundleError('BUNDLE_CORRUPT', 'the data key does not state its scrypt cost');
  }
  const [N, r, p] = cost as [number, number, number];
  // scrypt takes 128·N·r bytes for each of p lanes: the product bounds the memory should the
  // lanes run side by side, and the time either way.
  const bytes = 128 * N * r * p;
  if (bytes > MAX_UNWRAP_MEMORY_BYTES || p > MAX_UNWRAP_PARALLELISM) {
    const mib = (n: number): number => Math.ceil(n / (1024 * 1024));
    throw new BundleError(
      'BUNDLE_CORRUPT',
      `the data key asks for scrypt N=${N}, r=${r}, p=${p} (${mib(bytes)} MiB), above a ` +
        `bundle's limit (${mib(MAX_UNWRAP_MEMORY_BYTES)} MiB, p at most ${MAX_UNWRAP_PARALLELISM})`,
    );
  }
}

function parseClear(clear: Buffer): unknown {
  let json: Buffer;
  try {
    json = gunzipSync(clear, { maxOutputLength: MAX_PAYLOAD_BYTES });
  } catch {
    throw new BundleError('BUNDLE_CORRUPT', 'the contents do not decompress');
  } finally {
    clear.fill(0);
  }
  try {
    return JSON.parse(json.toString('utf8'));
  } catch {
    throw new BundleError('BUNDLE_CORRUPT', 'the contents are not JSON');
  } finally {
    json.fill(0);
  }
}

function base64(fields: Record<string, unknown>, name: string, length?: number): Buffer {
  const text = fields[name];
  // Canonical base64 only: Buffer.from skips junk characters, stops at `=` and ignores padding
  // bits, so only text that re-encodes to itself is taken. (Not a regex: V8 runs out of
  // backtracking stack on a ciphertext of a few MB.)
  const bytes = typeof text === 'string' ? Buffer.from(text, 'base64') : undefined;
  if (
    bytes === undefined ||
    bytes.toString('base64') !== text ||
    (length !== undefined && bytes.length !== length)
  ) {
    throw new BundleError('BUNDLE_CORRUPT', `field "${name}" is not valid base64 of its length`);
  }
  return bytes;
}
