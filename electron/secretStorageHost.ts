/**
 * Main's half of the core's key-store requests: runs each on Electron's `safeStorage` (Keychain,
 * DPAPI, libsecret/KWallet) and answers. Plain data in, plain data out; nothing is logged.
 */
import type { SafeStorage } from 'electron';
import type { SecretRequest, SecretResult } from '../station/api/coreProtocol.js';

/** The subset of safeStorage used here (the asynchronous API Electron 45 recommends). */
export type AsyncSafeStorage = Pick<
  SafeStorage,
  'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync'
>;

/** Answers one request; failures come back as a coded result, never as a throw. */
export async function answerSecretRequest(
  storage: AsyncSafeStorage,
  request: SecretRequest,
): Promise<SecretResult> {
  const { id, op, data } = request;
  try {
    let value: string;
    if (op === 'isAvailable') value = String(await storage.isAsyncEncryptionAvailable());
    else if (data === undefined) throw new Error(`"${op}" needs data`);
    else if (op === 'encrypt') value = (await storage.encryptStringAsync(data)).toString('base64');
    else value = (await storage.decryptStringAsync(Buffer.from(data, 'base64'))).result;
    return { type: 'secret-result', id, ok: true, value };
  } catch (err) {
    return {
      type: 'secret-result',
      id,
      ok: false,
      error: {
        code: 'OS_KEY_STORE_FAILED',
        message: `The OS key store refused "${op}".`,
        detail: err instanceof Error ? err.message : String(err),
      },
    };
  }
}

/** The backend name certs/ checks for `basic_text` (Linux only; elsewhere there is no choice). */
export function secretBackend(
  storage: Pick<SafeStorage, 'getSelectedStorageBackend'>,
): string | null {
  return process.platform === 'linux' ? storage.getSelectedStorageBackend() : null;
}
