/**
 * The OS key store as the core process sees it: each call is a request to Electron main, which
 * runs it on `safeStorage` and answers. Implements certs' AsyncOsSecretStorage, so the core hands
 * it to OsKeystoreKeyWrapper like the real thing.
 */
import type { AsyncOsSecretStorage } from '../../certs/custody/osKeystoreKeyWrapper.js';
import type { SecretRequest, SecretResult } from './coreProtocol.js';

/** How long main may take to answer (a key store prompt on the desktop can be slow). */
const TIMEOUT_MS = 60_000;

export class RemoteSecretStorage implements AsyncOsSecretStorage {
  readonly #send: (request: SecretRequest) => void;
  readonly #backend: string | null;
  readonly #pending = new Map<number, (result: SecretResult) => void>();
  #nextId = 1;

  /** `send` posts to main; main's answers come back through `receive`. */
  constructor(send: (request: SecretRequest) => void, backend: string | null) {
    this.#send = send;
    this.#backend = backend;
  }

  /** Feeds main's answer to the request waiting for it. */
  receive(result: SecretResult): void {
    const resolve = this.#pending.get(result.id);
    if (!resolve) return;
    this.#pending.delete(result.id);
    resolve(result);
  }

  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return (await this.#request('isAvailable')) === 'true';
  }

  async encryptStringAsync(plainText: string): Promise<Buffer> {
    return Buffer.from(await this.#request('encrypt', plainText), 'base64');
  }

  async decryptStringAsync(
    encrypted: Buffer,
  ): Promise<{ result: string; shouldReEncrypt: boolean }> {
    return {
      result: await this.#request('decrypt', encrypted.toString('base64')),
      shouldReEncrypt: false,
    };
  }

  getSelectedStorageBackend(): string {
    // Only Linux has a backend to report; elsewhere the OS store is always the real one.
    return this.#backend ?? 'os';
  }

  #request(op: SecretRequest['op'], data?: string): Promise<string> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`the OS key store did not answer "${op}" in time`));
      }, TIMEOUT_MS);
      this.#pending.set(id, (result) => {
        clearTimeout(timer);
        if (result.ok && result.value !== undefined) resolve(result.value);
        else
          reject(
            Object.assign(new Error(result.error?.message ?? 'OS key store failed'), result.error),
          );
      });
      this.#send(
        data === undefined
          ? { type: 'secret-request', id, op }
          : { type: 'secret-request', id, op, data },
      );
    });
  }
}
