import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import {
  OsKeystoreKeyWrapper,
  type AsyncOsSecretStorage,
  type OsSecretStorage,
} from './osKeystoreKeyWrapper.js';
import { openSecret, sealSecret } from './secretBox.js';

const CONTEXT = 'line-station/ca/issuing-key';

/**
 * Stands in for Electron's safeStorage: really encrypts (AES-256-GCM under a key only this fake
 * holds), so a blob made by one "computer" does not open on another.
 */
class FakeSafeStorage implements OsSecretStorage {
  readonly #key = randomBytes(32);
  available = true;
  backend: string | undefined = undefined;
  plaintextsSeen: string[] = [];

  isEncryptionAvailable(): boolean {
    return this.available;
  }
  encryptString(plainText: string): Buffer {
    this.plaintextsSeen.push(plainText);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  decryptString(encrypted: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.#key, encrypted.subarray(0, 12));
    decipher.setAuthTag(encrypted.subarray(12, 28));
    return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString();
  }
  getSelectedStorageBackend(): string {
    if (this.backend === undefined) throw new Error('not Linux');
    return this.backend;
  }
}

/** The same fake behind Electron's asynchronous API only. */
function asyncOnly(sync: FakeSafeStorage): AsyncOsSecretStorage {
  return {
    isAsyncEncryptionAvailable: async () => sync.isEncryptionAvailable(),
    encryptStringAsync: async (s) => sync.encryptString(s),
    decryptStringAsync: async (b) => ({ result: sync.decryptString(b), shouldReEncrypt: false }),
  };
}

/** A Linux-less fake: no getSelectedStorageBackend at all, as on macOS and Windows. */
function withoutBackend(fake: FakeSafeStorage): OsSecretStorage {
  return {
    isEncryptionAvailable: () => fake.isEncryptionAvailable(),
    encryptString: (s) => fake.encryptString(s),
    decryptString: (b) => fake.decryptString(b),
  };
}

describe('OsKeystoreKeyWrapper', () => {
  it.each([
    ['synchronous', (f: FakeSafeStorage) => withoutBackend(f)],
    ['asynchronous', (f: FakeSafeStorage) => asyncOnly(f)],
  ])('seals and opens through the %s safeStorage API', async (_name, api) => {
    const fake = new FakeSafeStorage();
    const wrapper = new OsKeystoreKeyWrapper(api(fake));
    const secret = randomBytes(48);
    const sealed = await sealSecret(secret, wrapper, CONTEXT);
    expect(sealed.wrappedKey.kind).toBe('os-keystore');
    // The store saw the data key (base64), and the file keeps only the store's ciphertext of it.
    expect(fake.plaintextsSeen).toHaveLength(1);
    expect(JSON.stringify(sealed)).not.toContain(fake.plaintextsSeen[0]);
    const opened = await openSecret(JSON.parse(JSON.stringify(sealed)), wrapper, CONTEXT);
    expect(opened.equals(secret)).toBe(true);
  });

  it('is unavailable when the OS cannot encrypt', async () => {
    const fake = new FakeSafeStorage();
    const wrapper = new OsKeystoreKeyWrapper(withoutBackend(fake));
    const sealed = await sealSecret(Buffer.from('s'), wrapper, CONTEXT);
    fake.available = false;
    await expect(sealSecret(Buffer.from('s'), wrapper, CONTEXT)).rejects.toMatchObject({
      code: 'CUSTODY_UNAVAILABLE',
    });
    await expect(openSecret(sealed, wrapper, CONTEXT)).rejects.toMatchObject({
      code: 'CUSTODY_UNAVAILABLE',
    });
  });

  it("treats Linux's hard-coded-password backend as unavailable", async () => {
    const fake = new FakeSafeStorage();
    fake.backend = 'basic_text';
    await expect(
      sealSecret(Buffer.from('s'), new OsKeystoreKeyWrapper(fake), CONTEXT),
    ).rejects.toMatchObject({
      code: 'CUSTODY_UNAVAILABLE',
      detail: expect.stringContaining('basic_text'),
    });
    fake.backend = 'gnome_libsecret';
    await expect(
      sealSecret(Buffer.from('s'), new OsKeystoreKeyWrapper(fake), CONTEXT),
    ).resolves.toBeDefined();
  });

  it('reports a key wrapped on another computer, or a damaged blob, as corrupt', async () => {
    const here = new OsKeystoreKeyWrapper(withoutBackend(new FakeSafeStorage()));
    const elsewhere = new OsKeystoreKeyWrapper(withoutBackend(new FakeSafeStorage()));
    const sealed = await sealSecret(Buffer.from('s'), elsewhere, CONTEXT);
    await expect(openSecret(sealed, here, CONTEXT)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
    });
    const blob = Buffer.from(String(sealed.wrappedKey.blob), 'base64');
    blob[20] = blob[20]! ^ 1;
    const damaged = {
      ...sealed,
      wrappedKey: { kind: 'os-keystore' as const, blob: blob.toString('base64') },
    };
    await expect(openSecret(damaged, elsewhere, CONTEXT)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
    });
  });

  it('refuses a store that hands back something other than a 32-byte key', async () => {
    const fake = new FakeSafeStorage();
    const liar = new OsKeystoreKeyWrapper({
      isEncryptionAvailable: () => true,
      encryptString: (s) => fake.encryptString(s),
      decryptString: () => 'c2hvcnQ=',
    });
    const sealed = await sealSecret(Buffer.from('s'), liar, CONTEXT);
    await expect(openSecret(sealed, liar, CONTEXT)).rejects.toMatchObject({
      code: 'CUSTODY_KEY_FILE_CORRUPT',
    });
  });
});
