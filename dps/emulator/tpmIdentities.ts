import { randomBytes } from 'node:crypto';
import type { IndividualEnrollment } from '../service/serviceTypes.js';
import type { EmulatorStore } from './emulatorStore.js';
import { badRequest, unauthorized } from './errorBodies.js';
import { jsonResponse, type EmulatorResponse } from './httpJson.js';
import { sealIdentityKey, TpmKeyError } from './tpm/identityKeyBlob.js';

/**
 * TPM attestation as DPS runs it (dps-protocol.md §2.5). A device's first PUT sends its EK and
 * SRK and no credential; if an enabled TPM enrollment holds that EK, DPS answers 401 with a fresh
 * HMAC identity key sealed so that only that TPM can import it (tpm/identityKeyBlob.ts). The
 * device signs its SAS token with the key inside the TPM: a valid signature proves it holds the
 * enrolled EK. The assignment repeats the sealed key, which the SDKs keep for later.
 *
 * Issued keys live in memory only: an emulator restart makes devices take a new challenge, as a
 * device does whenever DPS refuses its token. They are secrets and are never logged or stored.
 */
export interface IssuedIdentity {
  /** The enrolled EK the key was sealed to, base64 as enrolled. */
  endorsementKey: string;
  /** The HMAC-SHA256 key the device's TPM now holds, base64 (a SAS key). */
  identityKeyBase64: string;
  /** The sealed key as sent, base64: repeated in the assignment. */
  authenticationKey: string;
}

/** Identities kept for registrations in progress; the oldest are forgotten past this. */
const MAX_ISSUED = 10_000;
const IDENTITY_KEY_BYTES = 32;
const MAX_TPM2B_PUBLIC_BASE64_CHARS = 4096;

/** What a TPM device sends in its register body. */
export interface PresentedTpm {
  endorsementKey: string;
  storageRootKey: string;
}

export class TpmIdentities {
  private readonly issued = new Map<string, IssuedIdentity>();

  constructor(private readonly store: EmulatorStore) {}

  /**
   * The 401 challenge for a device's unauthenticated PUT, after checking that an enabled TPM
   * enrollment holds the EK it presents. Anything else is the usual 401 refusal.
   */
  challenge(registrationId: string, presented: PresentedTpm): EmulatorResponse {
    const enrollment = this.tpmEnrollment(registrationId);
    if (!sameKey(enrollment.attestation.tpm!.endorsementKey, presented.endorsementKey)) {
      throw unauthorized('the endorsement key is not the one enrolled for this registration ID.');
    }
    const identityKey = randomBytes(IDENTITY_KEY_BYTES);
    let sealed: Uint8Array;
    try {
      sealed = sealIdentityKey({
        endorsementKey: Buffer.from(presented.endorsementKey, 'base64'),
        storageRootKey: Buffer.from(presented.storageRootKey, 'base64'),
        identityKey,
      });
    } catch (err) {
      if (err instanceof TpmKeyError) throw badRequest(`TPM attestation: ${err.message}`);
      throw err;
    }
    const issued: IssuedIdentity = {
      endorsementKey: enrollment.attestation.tpm!.endorsementKey,
      identityKeyBase64: identityKey.toString('base64'),
      authenticationKey: Buffer.from(sealed).toString('base64'),
    };
    const key = registrationId.toLowerCase();
    this.issued.delete(key); // re-inserted last: the map's order is the age order
    this.issued.set(key, issued);
    if (this.issued.size > MAX_ISSUED) {
      const oldest = this.issued.keys().next().value;
      if (oldest !== undefined) this.issued.delete(oldest);
    }
    return jsonResponse(
      {
        message: 'Authorization required, resend request using supplied key',
        authenticationKey: issued.authenticationKey,
        unencryptedAuthenticationKey: null,
        keyName: 'registration',
      },
      401,
    );
  }

  /**
   * The identity issued to this registration, still valid for its enrollment: refused when no
   * challenge was taken, or the enrollment's EK changed since (the key was sealed to the old one).
   */
  issuedFor(registrationId: string, enrollment: IndividualEnrollment): IssuedIdentity {
    const issued = this.issued.get(registrationId.toLowerCase());
    if (issued === undefined) {
      throw unauthorized('no TPM challenge is open for this device: send the PUT without a token.');
    }
    const enrolled = enrollment.attestation.tpm?.endorsementKey;
    if (enrolled === undefined || !sameKey(enrolled, issued.endorsementKey)) {
      throw unauthorized('the TPM enrollment changed since the challenge: register again.');
    }
    return issued;
  }

  /** The sealed key last sent to this registration, for its assignment. */
  authenticationKeyOf(registrationId: string): string | undefined {
    return this.issued.get(registrationId.toLowerCase())?.authenticationKey;
  }

  private tpmEnrollment(registrationId: string): IndividualEnrollment {
    const enrollment = this.store.get<IndividualEnrollment>('enrollments', registrationId)?.record;
    if (enrollment?.attestation.type !== 'tpm' || enrollment.attestation.tpm === undefined) {
      throw unauthorized('no TPM enrollment matches this registration ID.');
    }
    if (enrollment.provisioningStatus === 'disabled') {
      throw unauthorized('the enrollment is disabled.');
    }
    return enrollment;
  }
}

/** The `tpm` block of a register body, or a 400 saying what is missing. */
export function readPresentedTpm(value: unknown): PresentedTpm {
  const tpm = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const field = (name: 'endorsementKey' | 'storageRootKey'): string => {
    const text = tpm[name];
    if (
      typeof text !== 'string' ||
      text.length > MAX_TPM2B_PUBLIC_BASE64_CHARS ||
      !/^[A-Za-z0-9+/]+={0,2}$/.test(text)
    ) {
      throw badRequest(`tpm.${name} must be base64 of a TPM2B_PUBLIC.`);
    }
    return text;
  };
  return { endorsementKey: field('endorsementKey'), storageRootKey: field('storageRootKey') };
}

/** Two base64 texts of the same key bytes (padding and line breaks aside). */
function sameKey(a: string, b: string): boolean {
  return Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}
