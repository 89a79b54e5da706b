import type { StationCa } from '../../../certs/stationCa.js';
import type { LeafProfile } from '../../../certs/leafProfile.js';
import type { EkTrustStore } from '../../../certs/tpm/ekTrustStore.js';
import type { DeviceInfo } from '../../../firmware-bridge/codec/messages.js';
import type {
  DeviceSession,
  RequestOptions,
} from '../../../firmware-bridge/session/deviceSession.js';
import type { ProductProfile } from '../../profiles/productProfile.js';
import type { AttestationEvidence, AttestationMode } from '../lineTypes.js';
import type { EarlierProvisioning, EndorsementKeyQuery } from '../runRecorder.js';
import type { ChallengeCheck } from '../steps/verifyDevice.js';

/**
 * Seals a secret for the store (the sync worker opens it when it sends the enrollment). Returns
 * the SealedSecret as JSON. `context` is bound into the ciphertext: a secret sealed for one
 * registration ID cannot be presented as another's.
 */
export type SealSecret = (plaintext: Uint8Array, context: string) => Promise<string>;

/**
 * The primary key of a symmetric-key enrollment group, decoded from base64. The line zeroes the
 * returned bytes after use, so return a fresh copy each call.
 */
export type GroupKeySource = (enrollmentGroupId: string) => Promise<Uint8Array>;

/** What attestation may use besides the device: the CA and the station's secret custody. */
export interface AttestationServices {
  ca: StationCa;
  /** The leaf profile made from the product profile (validity, allowed curve). */
  leafProfile: LeafProfile;
  sealSecret: SealSecret;
  groupKey?: GroupKeySource;
  /** The TPM vendor CAs an EK certificate must chain to (tpm profiles). */
  ekTrust?: EkTrustStore;
  /** The store's record of another device that passed with this TPM EK (tpm profiles). */
  endorsementKeyElsewhere?: (query: EndorsementKeyQuery) => EarlierProvisioning | undefined;
}

export interface AttestInput {
  session: DeviceSession;
  profile: ProductProfile;
  info: DeviceInfo;
  registrationId: string;
  /** Carries the run's AbortSignal to every request. */
  request: RequestOptions;
  services: AttestationServices;
  /**
   * What a certificate issued here is recorded as issued for (the run: issuedForRun), passed to
   * the CA, so the certificate of a run cut off by a crash is still found and abandoned.
   */
  issuedFor: string;
  /** Called as soon as a certificate exists, so a failure later in the run still names it. */
  onCertificateIssued(serialNumber: string): void;
  /**
   * Called as soon as there is evidence to keep (a TPM's EK, read and hashed), so a run that
   * then fails, on an untrusted certificate say, still records which TPM it was.
   */
  onEvidence(evidence: AttestationEvidence): void;
}

/** The identity an attest step staged on the device, as the rest of the run needs it. */
export interface AttestedIdentity {
  /** The DPS AttestationMechanism of the enrollment, without secrets. */
  attestation: Record<string, unknown>;
  /** Hex serial of the leaf, for the X.509 modes. */
  certificateSerial?: string;
  /** SealedSecret JSON of the key the enrollment needs (symmetric-key-individual). */
  sealedSecret?: string;
  /**
   * The enrollment row when the mode needs no individual enrollment in DPS (a group member);
   * absent means "build the individual enrollment from `attestation`".
   */
  enrollmentBody?: Record<string, unknown>;
  /**
   * How verify checks that the staged identity is really on the device. `null`, said on
   * purpose, for an identity the device cannot sign with (a TPM's EK: DPS proves it when the
   * device registers).
   */
  challenge: ChallengeCheck | null;
  /** What validate and attest checked of the identity (a TPM's EK), for the run's record. */
  evidence?: AttestationEvidence;
  /** Erases key material kept for verification. Called once the run ends, however it ends. */
  dispose(): void;
}

/**
 * One attestation mode. The run calls, in order: `missingCapability` (validate), the optional
 * `registrationId` (validate; TPM reads the endorsement key there, as the ID may derive from it),
 * then `attest` (attest step). Adding a mode is adding an Attestor to `attestors.ts`.
 */
export interface Attestor {
  readonly mode: AttestationMode;
  /** Registration IDs of this mode go into a certificate CN (at most 64 characters). */
  readonly x509: boolean;
  /** Why this device cannot do the mode, or undefined when it can. */
  missingCapability(info: DeviceInfo, profile: ProductProfile): string | undefined;
  /** Overrides the profile's template; the template is used when absent. */
  registrationId?(
    input: Omit<AttestInput, 'registrationId' | 'issuedFor' | 'onCertificateIssued'>,
  ): Promise<string>;
  /** Stages the identity on the device and describes it for verify and the enrollment. */
  attest(input: AttestInput): Promise<AttestedIdentity>;
}
