import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';

import { CertError } from '../certErrors.js';
import {
  base64Field,
  integerField,
  keyFileCorrupt,
  objectField,
  stringField,
  toBase64,
} from './custodyFields.js';
import type { KeyWrapper, WrappedKey } from './secretBox.js';

/** scrypt cost parameters, stored with every wrapped key so they can be raised later. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * The default cost: N = 2^15, r = 8 (32 MiB, about 0.1 s per attempt on a desktop CPU). Lower
 * values are for tests only.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({
  N: 2 ** 15,
  r: 8,
  p: 1,
});

// Bounds for parameters read back from a file: a damaged (or hostile) file must not make the
// station allocate gigabytes or spin for minutes before it can say "corrupt".
const MIN_LOG2_N = 10;
const MAX_LOG2_N = 20;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const CHECK_LABEL = Buffer.from('line-station/passphrase-check/v1', 'utf8');
const WRAP_AAD = Buffer.from('line-station/passphrase-wrap/v1', 'utf8');

function checkParams(params: ScryptParams): void {
  const log2N = Math.log2(params.N);
  if (!Number.isInteger(log2N) || log2N < MIN_LOG2_N || log2N > MAX_LOG2_N) {
    throw new RangeError(`scrypt N must be a power of two in 2^${MIN_LOG2_N}..2^${MAX_LOG2_N}`);
  }
  if (params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) {
    throw new RangeError('scrypt r must be 1..32 and p 1..16');
  }
}

/** 64 bytes: [0, 32) the key-encryption key, [32, 64) the passphrase-check key. */
function deriveKeys(passphrase: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const { N, r, p } = params;
  // Node refuses anything above maxmem (32 MiB by default), which N = 2^15, r = 8 just exceeds.
  const maxmem = 256 * N * r * p + (16 << 20);
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 64, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Salts whose derived keys a session wrapper keeps at most. */
const MAX_SESSION_SALTS = 16;

function passphraseCheck(derived: Buffer): Buffer {
  return createHmac('sha256', derived.subarray(32, 64)).update(CHECK_LABEL).digest();
}

/**
 * Wraps data keys under a key derived from a supervisor's passphrase (scrypt). Besides the
 * wrapped key it stores an HMAC "passphrase check" made with a second derived key, so a wrong
 * passphrase (check fails) is told apart from a damaged file (check passes, GCM fails). The check
 * reveals nothing an attacker could not learn by trying the GCM unwrap, and costs the same scrypt.
 * An edited salt or edited parameters look like a wrong passphrase: they change the derived keys.
 */
export class PassphraseKeyWrapper implements KeyWrapper {
  readonly kind = 'passphrase' as const;
  // Kept as a string for the session: JS strings cannot be wiped, and the UI held it as one too.
  readonly #passphrase: string;
  readonly #params: ScryptParams;
  /** Derived keys by salt and cost, when the wrapper keeps them for its session (see below). */
  readonly #derived: Map<string, Promise<Buffer>> | undefined;
  #sessionSalt: Buffer | undefined;

  /**
   * @param passphrase normalised to Unicode NFC, so the same passphrase typed through another
   *   keyboard layout or input method still derives the same key.
   * @param options.scrypt cost for keys wrapped from now on; reading uses what the file says.
   * @param options.session for a wrapper that seals and opens many secrets (a line's enrollment
   *   keys, the sync worker opening them): one salt for every key it wraps, and the keys scrypt
   *   derived kept in memory, so a run or a synced row costs an AES unwrap instead of 0.1 s of
   *   scrypt. Each secret still has its own data key and IV. The derived keys live as long as
   *   the wrapper (which holds the passphrase anyway); `forget()` zeroes them.
   */
  constructor(
    passphrase: string,
    options: { scrypt?: Partial<ScryptParams>; session?: boolean } = {},
  ) {
    if (passphrase.length === 0) throw new RangeError('passphrase must not be empty');
    this.#passphrase = passphrase.normalize('NFC');
    this.#params = { ...DEFAULT_SCRYPT_PARAMS, ...options.scrypt };
    checkParams(this.#params);
    this.#derived = options.session ? new Map() : undefined;
  }

  /** Zeroes and drops the derived keys a session wrapper kept. */
  async forget(): Promise<void> {
    const kept = [...(this.#derived?.values() ?? [])];
    this.#derived?.clear();
    this.#sessionSalt = undefined;
    for (const key of await Promise.allSettled(kept)) {
      if (key.status === 'fulfilled') key.value.fill(0);
    }
  }

  async wrap(dataKey: Uint8Array): Promise<WrappedKey> {
    const salt = this.#derived
      ? (this.#sessionSalt ??= randomBytes(SALT_BYTES))
      : randomBytes(SALT_BYTES);
    const derived = await this.#keysFor(salt, this.#params);
    try {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), iv, {
        authTagLength: TAG_BYTES,
      });
      cipher.setAAD(WRAP_AAD);
      const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
      return {
        kind: this.kind,
        kdf: 'scrypt',
        N: this.#params.N,
        r: this.#params.r,
        p: this.#params.p,
        salt: toBase64(salt),
        check: toBase64(passphraseCheck(derived)),
        iv: toBase64(iv),
        wrappedKey: toBase64(wrapped),
        tag: toBase64(cipher.getAuthTag()),
      };
    } finally {
      if (!this.#derived) derived.fill(0);
    }
  }

  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    const fields = objectField(wrapped, 'wrapped key');
    if (fields.kind !== this.kind || stringField(fields, 'kdf', 16) !== 'scrypt') {
      throw keyFileCorrupt('not a scrypt passphrase-wrapped key');
    }
    const params: ScryptParams = {
      N: integerField(fields, 'N', 2 ** MIN_LOG2_N, 2 ** MAX_LOG2_N),
      r: integerField(fields, 'r', 1, 32),
      p: integerField(fields, 'p', 1, 16),
    };
    if (!Number.isInteger(Math.log2(params.N))) throw keyFileCorrupt('scrypt N is no power of 2');
    const salt = base64Field(fields, 'salt', SALT_BYTES);
    const check = base64Field(fields, 'check', 32);
    const iv = base64Field(fields, 'iv', IV_BYTES);
    const wrappedKey = base64Field(fields, 'wrappedKey', DATA_KEY_BYTES);
    const tag = base64Field(fields, 'tag', TAG_BYTES);

    const derived = await this.#keysFor(salt, params);
    try {
      if (!timingSafeEqual(passphraseCheck(derived), check)) {
        throw new CertError('CUSTODY_WRONG_PASSPHRASE');
      }
      const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), iv, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(WRAP_AAD);
      decipher.setAuthTag(tag);
      const dataKey = decipher.update(wrappedKey);
      try {
        decipher.final();
      } catch (err) {
        dataKey.fill(0);
        throw keyFileCorrupt(
          'the passphrase is right but the wrapped key does not authenticate',
          err,
        );
      }
      return dataKey;
    } finally {
      if (!this.#derived) derived.fill(0);
    }
  }

  /** The derived keys for a salt: kept ones in a session wrapper, else a fresh scrypt. */
  #keysFor(salt: Buffer, params: ScryptParams): Promise<Buffer> {
    const kept = this.#derived;
    if (!kept) return this.#derive(salt, params);
    const id = `${salt.toString('base64')}/${params.N}/${params.r}/${params.p}`;
    let keys = kept.get(id);
    if (!keys) {
      if (kept.size >= MAX_SESSION_SALTS) {
        // Bounded: secrets sealed by many earlier sessions cost a scrypt again, never memory.
        const [oldest] = kept;
        kept.delete(oldest![0]);
        void oldest![1].then(
          (key) => key.fill(0),
          () => undefined,
        );
      }
      keys = this.#derive(salt, params);
      kept.set(id, keys);
      keys.catch(() => kept.delete(id));
    }
    return keys;
  }

  async #derive(salt: Buffer, params: ScryptParams): Promise<Buffer> {
    const passphrase = Buffer.from(this.#passphrase, 'utf8');
    try {
      return await deriveKeys(passphrase, salt, params);
    } finally {
      passphrase.fill(0);
    }
  }
}
