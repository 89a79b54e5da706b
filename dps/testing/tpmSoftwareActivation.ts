import {
  constants,
  createDecipheriv,
  createHash,
  createHmac,
  type KeyObject,
  privateDecrypt,
} from 'node:crypto';
import { kdfa } from '../emulator/tpm/kdfa.js';
import { TPM_ALG } from '../emulator/tpm/tpmConstants.js';
import { concat, EMPTY, TpmReader, tpm2b, u16 } from '../emulator/tpm/tpmBytes.js';

/**
 * Test support only: the device's side of the identity key blob done in software with the EK's
 * and SRK's private keys, so unit tests need no TPM. It follows the same reading of the spec as
 * the sealing code; that a real TPM opens the blob is proven against swtpm in
 * test/e2e/tpmIdentityKey.test.ts.
 */

/** The six parts of an identity key blob, each as marshalled (size prefix included). */
export interface IdentityKeyBlobParts {
  idObject: Uint8Array;
  encryptedSecret: Uint8Array;
  duplicate: Uint8Array;
  encryptedSeed: Uint8Array;
  publicArea: Uint8Array;
  encUriData: Uint8Array;
}

/** Splits a blob the way the Azure SDKs unmarshal it; throws when anything is short or left. */
export function splitIdentityKeyBlob(blob: Uint8Array): IdentityKeyBlobParts {
  const r = new TpmReader(blob, (reason) => {
    throw new Error(`blob ${reason}`);
  });
  const next = (what: string): Uint8Array => tpm2b(r.sized(what, 0xffff));
  const parts: IdentityKeyBlobParts = {
    idObject: next('TPM2B_ID_OBJECT'),
    encryptedSecret: next('TPM2B_ENCRYPTED_SECRET'),
    duplicate: next('TPM2B_PRIVATE'),
    encryptedSeed: next('TPM2B_ENCRYPTED_SECRET'),
    publicArea: next('TPM2B_PUBLIC'),
    encUriData: next('TPM2B_DATA'),
  };
  r.finish('TPM2B_DATA');
  return parts;
}

const reader = (bytes: Uint8Array): TpmReader =>
  new TpmReader(bytes, (reason) => {
    throw new Error(`field ${reason}`);
  });
/** Reads the contents of the TPM2B `bytes`. */
const inner = (bytes: Uint8Array): TpmReader => reader(bytes.subarray(2));

const nameOf = (tpm2bPublic: Uint8Array): Uint8Array =>
  concat(u16(TPM_ALG.SHA256), createHash('sha256').update(tpm2bPublic.subarray(2)).digest());

function unwrap(
  seedCipher: Uint8Array,
  label: string,
  privateKey: KeyObject,
  integrityAndData: Uint8Array,
  name: Uint8Array,
): Buffer {
  const seed = privateDecrypt(
    {
      key: privateKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: 'sha256',
      oaepLabel: Buffer.from(label),
    },
    inner(seedCipher).take(seedCipher.length - 2, 'seed'),
  );
  const r = inner(integrityAndData);
  const integrity = r.sized('integrity', 64);
  const data = r.take(r.remaining, 'data');
  const hmacKey = kdfa('sha256', seed, 'INTEGRITY', EMPTY, EMPTY, 256);
  const expected = createHmac('sha256', hmacKey).update(data).update(name).digest();
  if (!expected.equals(integrity)) throw new Error(`${label.slice(0, -1)} integrity fails`);
  return aesCfbDecrypt(kdfa('sha256', seed, 'STORAGE', name, EMPTY, 128), data);
}

function aesCfbDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  const decipher = createDecipheriv(`aes-${key.length * 8}-cfb`, key, Buffer.alloc(16));
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/**
 * What the device's TPM does with the blob (ActivateCredential, then Import), with the EK's and
 * SRK's private keys: returns the identity key, or throws where the TPM would refuse.
 */
export function openIdentityKeyBlob(
  blob: Uint8Array,
  keys: { ekPrivate: KeyObject; srkPrivate: KeyObject; srkPublic: Uint8Array },
): Uint8Array {
  const parts = splitIdentityKeyBlob(blob);
  const credentialDigest = unwrap(
    parts.encryptedSecret,
    'IDENTITY\0',
    keys.ekPrivate,
    parts.idObject,
    nameOf(keys.srkPublic),
  );
  const credential = reader(credentialDigest);
  const innerWrapKey = credential.sized('credential', 32);
  credential.finish('credential');

  const name = nameOf(parts.publicArea);
  const encSensitive = unwrap(
    parts.encryptedSeed,
    'DUPLICATE\0',
    keys.srkPrivate,
    parts.duplicate,
    name,
  );
  const r = reader(aesCfbDecrypt(innerWrapKey, encSensitive));
  const innerIntegrity = r.sized('inner integrity', 32);
  const sensitive = r.take(r.remaining, 'sensitive');
  const expected = createHash('sha256').update(sensitive).update(name).digest();
  if (!expected.equals(innerIntegrity)) throw new Error('inner integrity fails');

  const s = inner(sensitive);
  if (s.u16('sensitiveType') !== TPM_ALG.KEYEDHASH) throw new Error('not a keyed hash');
  s.sized('authValue', 64);
  const seedValue = s.sized('seedValue', 64);
  const key = s.sized('key', 128);
  s.finish('key');
  const unique = inner(parts.publicArea)
    .take(parts.publicArea.length - 2, 'public')
    .subarray(-32);
  const binding = createHash('sha256').update(seedValue).update(key).digest();
  if (!binding.equals(unique)) throw new Error('unique does not bind the key');
  return new Uint8Array(key);
}
