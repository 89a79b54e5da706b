import { CertError } from '../certErrors.js';
import { base64Field, keyFileCorrupt, objectField, toBase64 } from './custodyFields.js';
import type { KeyWrapper, WrappedKey } from './secretBox.js';

/**
 * The OS secret storage as Electron's `safeStorage` offers it (Keychain on macOS, DPAPI on
 * Windows, libsecret/KWallet on Linux). The Electron shell passes its `safeStorage` in; certs/
 * never imports `electron`, so tests pass a fake.
 */
export interface OsSecretStorage {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /**
   * Linux only (Electron): `basic_text` means no OS secret store was found and Electron
   * "encrypts" with a hard-coded password, i.e. the key would be on disk in clear.
   */
  getSelectedStorageBackend?(): string;
}

/**
 * The asynchronous safeStorage API. Electron 45 deprecates the synchronous calls above in its
 * favour, and data encrypted with either decrypts with `decryptStringAsync`, so the shell may pass
 * whichever its Electron version has.
 */
export interface AsyncOsSecretStorage {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  getSelectedStorageBackend?(): string;
}

// Backends that do not protect anything: Electron falls back to a fixed password on Linux when
// no secret store answers, and reports `unknown` before the app is ready.
const UNPROTECTED_BACKENDS = new Set(['basic_text', 'unknown']);
const MAX_BLOB_BYTES = 4096;

/** Real safeStorage objects have both APIs during the deprecation; the asynchronous one wins. */
function hasAsyncApi(s: OsSecretStorage | AsyncOsSecretStorage): s is AsyncOsSecretStorage {
  return 'encryptStringAsync' in s;
}

/**
 * Wraps data keys with the OS key store of this computer and user account: nothing to type, but
 * the wrapped key opens only on this machine for this user, so it suits a station that unlocks
 * its CA at start-up. Back the CA up with a passphrase-sealed copy as well.
 */
export class OsKeystoreKeyWrapper implements KeyWrapper {
  readonly kind = 'os-keystore' as const;
  readonly #storage: OsSecretStorage | AsyncOsSecretStorage;

  constructor(storage: OsSecretStorage | AsyncOsSecretStorage) {
    this.#storage = storage;
  }

  async wrap(dataKey: Uint8Array): Promise<WrappedKey> {
    await this.#requireAvailable();
    // safeStorage takes strings only; the base64 copy of the data key is a JS string that cannot
    // be wiped, and lives as long as the garbage collector lets it.
    const text = toBase64(dataKey);
    const storage = this.#storage;
    const blob = hasAsyncApi(storage)
      ? await storage.encryptStringAsync(text)
      : storage.encryptString(text);
    return { kind: this.kind, blob: toBase64(blob) };
  }

  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    const fields = objectField(wrapped, 'wrapped key');
    if (fields.kind !== this.kind) throw keyFileCorrupt('not an os-keystore wrapped key');
    const blob = base64Field(fields, 'blob', [1, MAX_BLOB_BYTES]);
    await this.#requireAvailable();
    const storage = this.#storage;
    let text: string;
    try {
      text = hasAsyncApi(storage)
        ? (await storage.decryptStringAsync(blob)).result
        : storage.decryptString(blob);
    } catch (err) {
      // The OS store cannot tell a damaged blob from one made on another machine or account;
      // either way the key is gone from here and must come from the backup.
      throw keyFileCorrupt(
        'the key store of this computer could not decrypt the wrapped key ' +
          '(damaged, or made on another computer or user account)',
        err,
      );
    }
    return base64Field({ text }, 'text', 32);
  }

  async #requireAvailable(): Promise<void> {
    const storage = this.#storage;
    const available = hasAsyncApi(storage)
      ? await storage.isAsyncEncryptionAvailable()
      : storage.isEncryptionAvailable();
    if (!available) throw new CertError('CUSTODY_UNAVAILABLE', 'OS encryption is not available');
    const backend = storage.getSelectedStorageBackend?.();
    if (backend !== undefined && UNPROTECTED_BACKENDS.has(backend)) {
      throw new CertError('CUSTODY_UNAVAILABLE', `OS secret storage backend is "${backend}"`);
    }
  }
}
