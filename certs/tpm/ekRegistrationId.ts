import { createHash } from 'node:crypto';
import { CertError } from '../certErrors.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * The DPS registration ID the Azure IoT SDKs derive from a TPM's endorsement key: SHA-256 of
 * the whole TPM2B_PUBLIC (size prefix included), in RFC 4648 base32 with the lower-case
 * alphabet and no `=` padding, which is 52 characters. The C SDK (prov_auth_client.c,
 * load_registration_id) and the Node SDK (azure-iot-security-tpm, getRegistrationId) both do
 * this, so a device whose firmware lets its SDK pick the ID matches an enrollment made here.
 *
 * It hashes the bytes as given, so it refuses (EK_PUBLIC_MALFORMED) bytes whose size prefix
 * does not match: a TPMT_PUBLIC passed without its prefix would otherwise give a valid-looking
 * ID no device ever uses. The rest of the checks are parseEkPublic's.
 */
export function registrationIdFromEk(tpm2bPublic: Uint8Array): string {
  const size = tpm2bPublic.length > 2 ? (tpm2bPublic[0]! << 8) | tpm2bPublic[1]! : 0;
  if (size === 0 || size !== tpm2bPublic.length - 2) {
    throw new CertError(
      'EK_PUBLIC_MALFORMED',
      `not a TPM2B_PUBLIC: ${tpm2bPublic.length} bytes, size prefix ${size}`,
    );
  }
  return base32(ekDigest(tpm2bPublic));
}

/**
 * An EK's fingerprint: hex SHA-256 of its TPM2B_PUBLIC bytes, as the station records it and
 * looks it up (the same digest the registration ID encodes).
 */
export function ekSha256(tpm2bPublic: Uint8Array): string {
  return Buffer.from(ekDigest(tpm2bPublic)).toString('hex');
}

function ekDigest(tpm2bPublic: Uint8Array): Buffer {
  return createHash('sha256').update(tpm2bPublic).digest();
}

/** RFC 4648 section 6, lower case, padding left off. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xfff; // at most 12 bits are ever pending
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
