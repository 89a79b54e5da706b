import type { DeviceRegistrationState } from '../service/serviceTypes.js';

/**
 * How a device proves who it is (dps-protocol.md §2.3–§2.5). The X.509 and symmetric-key forms
 * carry secrets: never log them.
 */
export type DeviceAuth =
  | {
      kind: 'x509';
      /** Leaf first, then any intermediates: presented as the TLS client certificate. */
      certificateChainPem: string;
      privateKeyPem: string;
    }
  | { kind: 'symmetricKey'; deviceKeyBase64: string }
  | { kind: 'tpm'; tpm: DeviceTpm };

/**
 * The device's TPM as its DPS client uses it (the Azure SDKs' TPM security client, dps-protocol.md
 * §2.5). The keys never leave the TPM: DPS wraps a fresh identity key so that only the TPM holding
 * this EK and SRK can import it, and the device signs its SAS token with that key inside the TPM.
 */
export interface DeviceTpm {
  /** TPM2B_PUBLIC of the endorsement key, as DPS enrolls it. */
  endorsementKey(): Promise<Uint8Array>;
  /** TPM2B_PUBLIC of the storage root key the identity key is imported under. */
  storageRootKey(): Promise<Uint8Array>;
  /** Opens DPS's `authenticationKey` (ActivateCredential with the EK, Import under the SRK). */
  activateIdentityKey(authenticationKey: Uint8Array): Promise<void>;
  /** HMAC-SHA256 with the activated identity key, computed by the TPM. */
  signWithIdentity(data: Uint8Array): Promise<Uint8Array>;
}

/** One device registration, as `registerDevice` runs it. */
export interface RegisterDeviceOptions {
  /** DPS global endpoint, `host` or `host:port` (the emulator's `hostName`). */
  globalEndpoint: string;
  idScope: string;
  registrationId: string;
  auth: DeviceAuth;
  /** An extra PEM trust anchor (the emulator's CA), added to Node's public roots. */
  ca?: string;
  /** Custom allocation payload, sent as `payload` when given. */
  payload?: unknown;
  /** Per request (the register PUT, each poll). Default 30 000 ms. */
  timeoutMs?: number;
  /** Polls of the operation before giving up with DPS_TIMEOUT. Default 20. */
  maxPolls?: number;
  /** Longest wait between polls whatever Retry-After says. Default 3000 ms. */
  maxPollDelayMs?: number;
  /** Aborts the request in flight or the wait; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Default '2021-06-01' (the C SDK's). */
  apiVersion?: string;
}

/** A device DPS assigned to a hub. */
export interface DeviceRegistrationResult {
  assignedHub: string;
  deviceId: string;
  /** DPS's registration state as sent (x509/symmetricKey details, substatus, etag, payload). */
  registrationState: DeviceRegistrationState;
  status: 'assigned';
}
