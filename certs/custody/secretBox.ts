import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { CertError } from '../certErrors.js';
import {
  base64Field,
  keyFileCorrupt,
  objectField,
  stringField,
  toBase64,
} from './custodyFields.js';

/**
 * Envelope encryption for the station's secrets (the CA keys first). Each secret gets its own
 * random 256-bit data key; the secret is encrypted with AES-256-GCM under that data key, and only
 * the data key is handed to a KeyWrapper (a passphrase, the OS key store). Changing how a secret
 * is protected therefore re-wraps 32 bytes and never touches the ciphertext, and a wrapper never
 * sees the secret itself.
 *
 * Hardware tokens do not plug in here. With a PKCS#11 token (HSM, smart card) the CA key is made
 * on the token and never leaves it, so there is nothing to wrap: the CA is opened with a CaSigner
 * backed by the token (C_SignInit/C_Sign on the key's handle, PIN from the supervisor) in place of
 * the software signer unsealed from `issuing-key.sealed.json` (see ../ca/openCa.ts).
 */

/** How a data key is protected. New kinds get new names; a name never changes meaning. */
export type KeyWrapperKind = 'passphrase' | 'os-keystore';

/**
 * A wrapped data key as its wrapper stores it: JSON, with the wrapper's own fields (salt, KDF
 * parameters, blobs) beside `kind`. Only the wrapper that made it can read it.
 */
export interface WrappedKey {
  readonly kind: KeyWrapperKind;
  readonly [field: string]: string | number;
}

/** Protects a 32-byte data key. Implementations must treat `WrappedKey` fields as untrusted. */
export interface KeyWrapper {
  readonly kind: KeyWrapperKind;
  wrap(dataKey: Uint8Array): Promise<WrappedKey>;
  /** Throws CertError: CUSTODY_WRONG_PASSPHRASE, CUSTODY_KEY_FILE_CORRUPT, CUSTODY_UNAVAILABLE. */
  unwrap(wrapped: WrappedKey): Promise<Uint8Array>;
}

/** A sealed secret as written to disk (JSON). Holds nothing readable without the wrapper. */
export interface SealedSecret {
  readonly format: 'line-station/sealed-secret';
  readonly version: 1;
  /** What the secret is (for example `line-station/ca/issuing-key`); bound into the AAD. */
  readonly context: string;
  readonly wrappedKey: WrappedKey;
  readonly cipher: 'AES-256-GCM';
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

const FORMAT = 'line-station/sealed-secret';
const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_SECRET_BYTES = 64 * 1024;
const MAX_CONTEXT_CHARS = 200;

/**
 * The context is authenticated, not only stored: GCM fails if a file sealed for one purpose (a
 * DPS key) is presented as another (the CA key), even when someone also edits the stored field.
 */
function additionalData(context: string): Buffer {
  return Buffer.from(`${FORMAT}/v1\0${context}`, 'utf8');
}

function checkContext(context: string): void {
  if (context.length === 0 || context.length > MAX_CONTEXT_CHARS) {
    throw new RangeError(`context must be 1..${MAX_CONTEXT_CHARS} characters`);
  }
}

/** Encrypts `plaintext` under a fresh data key and wraps that key with `wrapper`. */
export async function sealSecret(
  plaintext: Uint8Array,
  wrapper: KeyWrapper,
  context: string,
): Promise<SealedSecret> {
  checkContext(context);
  if (plaintext.length > MAX_SECRET_BYTES) throw new RangeError('secret too large to seal');
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const wrappedKey = await wrapper.wrap(dataKey);
    return {
      format: FORMAT,
      version: 1,
      context,
      wrappedKey,
      cipher: 'AES-256-GCM',
      iv: toBase64(iv),
      ciphertext: toBase64(ciphertext),
      tag: toBase64(cipher.getAuthTag()),
    };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Checks the shape of a sealed secret read from disk (already JSON-parsed). Throws
 * CUSTODY_KEY_FILE_CORRUPT; decrypts nothing.
 */
export function readSealedSecret(value: unknown): SealedSecret {
  const obj = objectField(value, 'sealed secret');
  if (obj.format !== FORMAT || obj.version !== 1 || obj.cipher !== 'AES-256-GCM') {
    throw keyFileCorrupt('not a version 1 sealed secret');
  }
  const wrapped = objectField(obj.wrappedKey, 'wrappedKey');
  const kind = stringField(wrapped, 'kind', 64);
  if (kind !== 'passphrase' && kind !== 'os-keystore') {
    throw keyFileCorrupt(`unknown key wrapper "${kind}"`);
  }
  for (const [field, v] of Object.entries(wrapped)) {
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw keyFileCorrupt(`wrappedKey field "${field}" is neither string nor number`);
    }
  }
  base64Field(obj, 'iv', IV_BYTES);
  base64Field(obj, 'tag', TAG_BYTES);
  base64Field(obj, 'ciphertext', [1, MAX_SECRET_BYTES]);
  return {
    format: FORMAT,
    version: 1,
    context: stringField(obj, 'context', MAX_CONTEXT_CHARS),
    wrappedKey: wrapped as unknown as WrappedKey,
    cipher: 'AES-256-GCM',
    iv: obj.iv as string,
    ciphertext: obj.ciphertext as string,
    tag: obj.tag as string,
  };
}

/** Parses the text of a sealed-secret file; truncated or garbled JSON is CUSTODY_KEY_FILE_CORRUPT. */
export function parseSealedSecret(text: string): SealedSecret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw keyFileCorrupt('sealed secret is not valid JSON', err);
  }
  return readSealedSecret(value);
}

/**
 * Unwraps the data key and decrypts the secret sealed for `context`. The caller owns (and should
 * zero) the returned bytes. Throws CertError: CUSTODY_WRAPPER_MISMATCH, CUSTODY_WRONG_PASSPHRASE,
 * CUSTODY_UNAVAILABLE, or CUSTODY_KEY_FILE_CORRUPT (damaged, or sealed for another context).
 */
export async function openSecret(
  sealed: SealedSecret,
  wrapper: KeyWrapper,
  context: string,
): Promise<Buffer> {
  checkContext(context);
  const checked = readSealedSecret(sealed);
  if (checked.wrappedKey.kind !== wrapper.kind) {
    throw new CertError(
      'CUSTODY_WRAPPER_MISMATCH',
      `sealed with "${checked.wrappedKey.kind}", offered "${wrapper.kind}"`,
    );
  }
  if (checked.context !== context) {
    throw keyFileCorrupt(`file holds "${checked.context}", expected "${context}"`);
  }
  const fields = checked as unknown as Record<string, unknown>;
  // A view, not a copy, so that zeroing it below wipes the wrapper's buffer as well.
  const unwrapped = await wrapper.unwrap(checked.wrappedKey);
  const dataKey = Buffer.from(unwrapped.buffer, unwrapped.byteOffset, unwrapped.byteLength);
  try {
    if (dataKey.length !== DATA_KEY_BYTES) throw keyFileCorrupt('data key has the wrong length');
    const decipher = createDecipheriv('aes-256-gcm', dataKey, base64Field(fields, 'iv', IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(context));
    decipher.setAuthTag(base64Field(fields, 'tag', TAG_BYTES));
    const ciphertext = base64Field(fields, 'ciphertext', [1, MAX_SECRET_BYTES]);
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final();
    } catch (err) {
      // The wrapper vouched for the data key, so a failure here is damage, not a wrong secret.
      plaintext.fill(0);
      throw keyFileCorrupt('sealed secret does not authenticate', err);
    }
    return plaintext;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Sealing to and from text (the JSON the store and the data directory keep) under one wrapper:
 * what a line hands its attestors, and what the sync worker uses to open the same secrets.
 */
export function sealedText(wrapper: KeyWrapper): {
  seal(plaintext: Uint8Array, context: string): Promise<string>;
  open(text: string, context: string): Promise<Buffer>;
} {
  return {
    seal: async (plaintext, context) =>
      JSON.stringify(await sealSecret(plaintext, wrapper, context)),
    open: (text, context) => openSecret(parseSealedSecret(text), wrapper, context),
  };
}
