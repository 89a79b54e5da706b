import { createHash, randomBytes } from 'node:crypto';
import { sasSignatureMatches, type SasFields } from '../auth/sas.js';
import type { IndividualEnrollment } from '../service/serviceTypes.js';
import { base64Bytes, objectOrFail } from './attestationValidation.js';
import type { EmulatorStore } from './emulatorStore.js';
import { badRequest, unauthorized } from './errorBodies.js';
import { jsonResponse, type EmulatorResponse } from './httpJson.js';
import { sealIdentityKey, TpmKeyError } from './tpm/identityKeyBlob.js';

/**
 * TPM attestation as DPS runs it (dps-protocol.md §2.5). A device's first PUT sends its EK and
 * SRK and no credential; if the TPM enrollment of that registration ID holds that EK, DPS
 * answers 401 with a fresh HMAC identity key sealed so that only that TPM can import it
 * (tpm/identityKeyBlob.ts). The device signs its SAS token with the key inside the TPM: a valid
 * signature proves it holds the enrolled EK. The assignment repeats the sealed key, which the
 * SDKs keep for later.
 *
 * An EK and an SRK are public, so anyone can ask for a challenge in a device's name: a challenge
 * therefore never replaces a key a token has used. Each registration keeps up to four
 * identities for an hour, one unused per SRK; when room is needed, an unused one goes first. So
 * four challenges with other SRKs in the seconds between a device's challenge and its signed
 * PUT (its TPM's ActivateCredential and Import) evict its key, and it must register again.
 *
 * Issued keys live in memory only: after an emulator restart a device registers anew and takes
 * a new challenge. They are secrets and are never logged or stored.
 */
export interface IssuedIdentity {
  /** The enrolled EK the key was sealed to, base64 as enrolled. */
  endorsementKey: string;
  /** SHA-256 (hex) of the SRK the key was duplicated to: one identity per SRK. */
  storageRootKeySha256: string;
  /** The HMAC-SHA256 key the device's TPM now holds, base64 (a SAS key). */
  identityKeyBase64: string;
  /** The sealed key as sent, base64: repeated in the assignment. */
  authenticationKey: string;
  issuedAt: number;
  /** A token signed with this key was accepted: the device holding it is registering. */
  used: boolean;
}

/** Registrations with identities kept; the one challenged longest ago is forgotten past this. */
const MAX_REGISTRATIONS = 10_000;
/** Identities per registration (SRKs a device, or someone in its name, asked for). */
const MAX_IDENTITIES_PER_REGISTRATION = 4;
/** As long as the device's token lives (the SDKs sign for an hour). */
const IDENTITY_LIFETIME_MS = 60 * 60 * 1000;
const IDENTITY_KEY_BYTES = 32;
const MAX_TPM2B_PUBLIC_BASE64_CHARS = 4096;

/** What a TPM device sends in its register body. */
export interface PresentedTpm {
  endorsementKey: string;
  storageRootKey: string;
}

export class TpmIdentities {
  private readonly issued = new Map<string, IssuedIdentity[]>();

  constructor(
    private readonly store: EmulatorStore,
    /** Milliseconds on a clock that only moves forward: lifetimes are relative. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * The 401 challenge for a device's unauthenticated PUT, after checking that the TPM enrollment
   * of this registration ID (enabled or disabled) holds the EK it presents. Anything else is the
   * usual 401 refusal; keys that are no RSA storage keys are a 400.
   */
  challenge(registrationId: string, presented: PresentedTpm): EmulatorResponse {
    const enrollment = this.tpmEnrollment(registrationId);
    if (!sameKey(enrollment.attestation.tpm!.endorsementKey, presented.endorsementKey)) {
      throw unauthorized('the endorsement key is not the one enrolled for this registration ID.');
    }
    const identityKey = randomBytes(IDENTITY_KEY_BYTES);
    const storageRootKey = Buffer.from(presented.storageRootKey, 'base64');
    let sealed: Uint8Array;
    try {
      sealed = sealIdentityKey({
        endorsementKey: Buffer.from(presented.endorsementKey, 'base64'),
        storageRootKey,
        identityKey,
      });
    } catch (err) {
      if (err instanceof TpmKeyError) throw badRequest(`TPM attestation: ${err.message}`);
      throw err;
    }
    const identity: IssuedIdentity = {
      endorsementKey: enrollment.attestation.tpm!.endorsementKey,
      storageRootKeySha256: createHash('sha256').update(storageRootKey).digest('hex'),
      identityKeyBase64: identityKey.toString('base64'),
      authenticationKey: Buffer.from(sealed).toString('base64'),
      issuedAt: this.now(),
      used: false,
    };
    this.keep(registrationId.toLowerCase(), identity);
    return jsonResponse(
      {
        message: 'Authorization required, resend request using supplied key',
        authenticationKey: identity.authenticationKey,
        unencryptedAuthenticationKey: null,
        keyName: 'registration',
      },
      401,
    );
  }

  /**
   * The identity whose key signed `token`, still valid for `enrollment`: refused when no
   * challenge is open, the enrollment's EK changed since (the keys were sealed to the old one),
   * or no open identity's key made the signature.
   */
  verify(
    registrationId: string,
    enrollment: IndividualEnrollment,
    token: SasFields,
  ): IssuedIdentity {
    const open = this.open(registrationId.toLowerCase());
    if (open.length === 0) {
      throw unauthorized('no TPM challenge is open for this device: send the PUT without a token.');
    }
    const enrolled = enrollment.attestation.tpm?.endorsementKey;
    const current = open.filter(
      (identity) => enrolled !== undefined && sameKey(enrolled, identity.endorsementKey),
    );
    if (current.length === 0) {
      throw unauthorized('the TPM enrollment changed since the challenge: register again.');
    }
    const signer = current.find((identity) =>
      sasSignatureMatches(token, identity.identityKeyBase64),
    );
    if (signer === undefined) {
      throw unauthorized('the token is not signed with the identity key sealed to this TPM.');
    }
    signer.used = true;
    return signer;
  }

  /** The identities of a registration still within their lifetime, oldest first. */
  private open(key: string): IssuedIdentity[] {
    const now = this.now();
    const open = (this.issued.get(key) ?? []).filter(
      (identity) => now - identity.issuedAt < IDENTITY_LIFETIME_MS,
    );
    if (open.length === 0) this.issued.delete(key);
    else this.issued.set(key, open);
    return open;
  }

  /**
   * Adds `identity`. It replaces an unused one for the same SRK (a device asking again); one a
   * token used stays, as a replay of a device's own EK and SRK must not cut it off. Room is made
   * from unused identities first.
   */
  private keep(key: string, identity: IssuedIdentity): void {
    const kept = this.open(key).filter(
      (other) => other.used || other.storageRootKeySha256 !== identity.storageRootKeySha256,
    );
    while (kept.length >= MAX_IDENTITIES_PER_REGISTRATION) {
      const unused = kept.findIndex((other) => !other.used);
      kept.splice(unused >= 0 ? unused : 0, 1);
    }
    kept.push(identity);
    this.issued.delete(key); // re-inserted last: the map's order is the age of its last challenge
    this.issued.set(key, kept);
    if (this.issued.size > MAX_REGISTRATIONS) {
      const oldest = this.issued.keys().next().value;
      if (oldest !== undefined) this.issued.delete(oldest);
    }
  }

  private tpmEnrollment(registrationId: string): IndividualEnrollment {
    const enrollment = this.store.get<IndividualEnrollment>('enrollments', registrationId)?.record;
    if (enrollment?.attestation.type !== 'tpm' || enrollment.attestation.tpm === undefined) {
      throw unauthorized('no TPM enrollment matches this registration ID.');
    }
    // A disabled enrollment is challenged too: its device attests, and its registration ends
    // `disabled` (deviceRoutes.ts), as in DPS.
    return enrollment;
  }
}

/** The `tpm` block of a register body, or a 400 saying what is missing. */
export function readPresentedTpm(value: unknown): PresentedTpm {
  const tpm = objectOrFail(value, 'tpm');
  const field = (name: 'endorsementKey' | 'storageRootKey'): string => {
    const text = tpm[name];
    if (
      typeof text !== 'string' ||
      text.length > MAX_TPM2B_PUBLIC_BASE64_CHARS ||
      base64Bytes(text) === undefined
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
