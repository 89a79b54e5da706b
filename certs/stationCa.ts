import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IssuanceLedger, IssuanceRecord, IssuedCertificateSummary } from './caSigner.js';
import { openCa, type CaStatus, type LockedCa, type UnlockedCa } from './ca/openCa.js';
import { CertError } from './certErrors.js';
import { checkCsr } from './csr/checkCsr.js';
import type { KeyWrapper } from './custody/secretBox.js';
import { issueLeafFast } from './leaf/issueLeafFast.js';
import { leafSpki } from './leaf/leafSpki.js';
import { LeafTemplate } from './leaf/leafTemplate.js';
import { DEFAULT_LEAF_PROFILE, type LeafProfile } from './leafProfile.js';
import { registrationIdProblem } from './registrationIdRules.js';

/** A certificate the CA issued, ready to write to a device. */
export interface IssuedCertificate {
  registrationId: string;
  certificateDer: Uint8Array;
  /** The issuing CA first, up to the root: what follows the leaf on the device. */
  chainDer: readonly Uint8Array[];
  /** Hex, lower case. */
  serialNumber: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  /**
   * The key the leaf's SubjectPublicKeyInfo holds (the CSR's, byte for byte, or the one the
   * station made), so a caller checks what the device signs without decoding the leaf again:
   * OpenSSL 3 takes ~100 µs to decode a key from DER, a tenth of a device's whole station CPU.
   */
  publicKey: KeyObject;
}

/** A leaf whose key the station made, for devices that cannot generate keys. */
export interface IssuedWithStationKey extends IssuedCertificate {
  /** PKCS#8 DER. Written to the device once and never stored; the caller zeroes it after use. */
  privateKeyPkcs8: Buffer;
}

/**
 * A ledger whose record may wait (the station database locked by another program) and can be
 * told to stop waiting: the run the certificate is for was cancelled. Any IssuanceLedger is one.
 */
export interface WaitingIssuanceLedger extends IssuanceLedger {
  record(entry: IssuanceRecord, options?: { signal?: AbortSignal }): boolean | Promise<boolean>;
}

/**
 * The station's CA as the line uses it: issue from a device CSR, issue with a station-made key,
 * list and revoke what was issued, hand out the chain. Every certificate passes the CSR checks
 * first and is reported to the ledger (the station database) before it leaves the CA.
 */
export class StationCa {
  /** One template per (unlocked session, profile): built on first use, reused for every leaf. */
  private templates = new WeakMap<UnlockedCa, Map<LeafProfile, LeafTemplate>>();

  constructor(
    private readonly ca: LockedCa,
    private readonly ledger: WaitingIssuanceLedger,
    readonly defaultProfile: LeafProfile = DEFAULT_LEAF_PROFILE,
  ) {}

  /** Opens the CA in `caDir`, locked. CA_NOT_INITIALISED when there is none. */
  static async open(
    caDir: string,
    ledger: IssuanceLedger,
    profile?: LeafProfile,
  ): Promise<StationCa> {
    return new StationCa(await openCa(caDir), ledger, profile);
  }

  status(): CaStatus {
    return this.ca.status();
  }

  /** Unlocks the CA for this session (CUSTODY_* on a wrong passphrase or a damaged key file). */
  async unlock(wrapper: KeyWrapper): Promise<void> {
    await this.ca.unlock(wrapper);
  }

  lock(): void {
    this.ca.lock();
  }

  /** The chain written after the leaf: issuing CA first, up to the root. CA_LOCKED when locked. */
  chain(): readonly Uint8Array[] {
    return this.ca.requireUnlocked().chainDer;
  }

  /** Checks a device CSR (checkCsr) and issues its leaf. */
  async issueFromCsr(
    csrDer: Uint8Array,
    options: {
      registrationId: string;
      profile?: LeafProfile;
      issuedFor?: string;
      /** Ends a wait of the ledger's record; the certificate then never leaves the CA. */
      signal?: AbortSignal;
    },
  ): Promise<IssuedCertificate> {
    const unlocked = this.ca.requireUnlocked();
    const profile = options.profile ?? this.defaultProfile;
    const { parsed, publicKey } = await checkCsr(csrDer, {
      expectedRegistrationId: options.registrationId,
      profile,
    });
    return this.issue(
      unlocked,
      { spki: leafSpki(parsed.spki), publicKey },
      options.registrationId,
      profile,
      'device',
      options.issuedFor,
      options.signal,
    );
  }

  /** Makes a key on the station and issues its leaf (x509-station-key mode). */
  async issueWithStationKey(options: {
    registrationId: string;
    curve?: 'P-256' | 'P-384';
    profile?: LeafProfile;
    /** Recorded in the ledger with the certificate (IssuanceRecord.issuedFor). */
    issuedFor?: string;
    /** Ends a wait of the ledger's record; the certificate then never leaves the CA. */
    signal?: AbortSignal;
  }): Promise<IssuedWithStationKey> {
    const unlocked = this.ca.requireUnlocked();
    const profile = options.profile ?? this.defaultProfile;
    const curve = options.curve ?? 'P-256';
    const problem = registrationIdProblem(options.registrationId, { x509: true });
    if (problem)
      throw new CertError('CSR_REGISTRATION_ID_INVALID', `${options.registrationId}: ${problem}`);
    if (!profile.allowedKeys.some((k) => k.kty === 'EC' && k.curve === curve)) {
      throw new CertError('CSR_KEY_NOT_ALLOWED', `profile ${profile.name} does not allow ${curve}`);
    }
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const issued = await this.issue(
      unlocked,
      { spki, publicKey },
      options.registrationId,
      profile,
      'station',
      options.issuedFor,
      options.signal,
    );
    return { ...issued, privateKeyPkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }) };
  }

  async list(
    query: { registrationId?: string; limit?: number } = {},
  ): Promise<IssuedCertificateSummary[]> {
    return this.ledger.list(query);
  }

  /** Marks a certificate revoked in the ledger; CA_UNKNOWN_CERTIFICATE when there is none to revoke. */
  async revoke(serialNumber: string, reason: string): Promise<void> {
    if (!(await this.ledger.revoke(serialNumber.toLowerCase(), reason))) {
      throw new CertError('CA_UNKNOWN_CERTIFICATE', `serial ${serialNumber}`);
    }
  }

  private async issue(
    unlocked: UnlockedCa,
    key: { spki: Uint8Array; publicKey: KeyObject },
    registrationId: string,
    profile: LeafProfile,
    keySource: 'device' | 'station',
    issuedFor: string | undefined,
    signal?: AbortSignal,
  ): Promise<IssuedCertificate> {
    const leaf = await issueLeafFast(this.templateFor(unlocked, profile), unlocked.signer, {
      registrationId,
      spki: key.spki,
    });
    const issued: IssuedCertificate = {
      registrationId,
      certificateDer: leaf.certificateDer,
      chainDer: unlocked.chainDer,
      serialNumber: Buffer.from(leaf.serialNumber).toString('hex'),
      fingerprintSha256: createHash('sha256').update(leaf.certificateDer).digest('hex'),
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      publicKey: key.publicKey,
    };
    const fresh = await this.ledger.record(
      {
        serialNumber: issued.serialNumber,
        subject: `CN=${registrationId}`,
        registrationId,
        fingerprintSha256: issued.fingerprintSha256,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        profile: profile.name,
        keySource,
        certificateDer: issued.certificateDer,
        ...(issuedFor !== undefined && { issuedFor }),
      },
      signal && { signal },
    );
    // 120 random bits make a repeat practically impossible; if it happens, nothing leaves the CA.
    if (!fresh) throw new CertError('CA_SERIAL_REUSED', `serial ${issued.serialNumber}`);
    return issued;
  }

  private templateFor(unlocked: UnlockedCa, profile: LeafProfile): LeafTemplate {
    let byProfile = this.templates.get(unlocked);
    if (!byProfile) this.templates.set(unlocked, (byProfile = new Map()));
    let template = byProfile.get(profile);
    if (!template) {
      template = LeafTemplate.create({
        issuingCertificate: unlocked.issuingCertificateDer,
        profile,
        algorithm: unlocked.signer.algorithm,
        // The status's dates are the latest start and the soonest end of the whole chain.
        chainNotAfter: this.ca.status().notAfter,
        chainNotBefore: this.ca.status().notBefore,
      });
      byProfile.set(profile, template);
    }
    return template;
  }
}
