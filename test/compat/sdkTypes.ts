/**
 * The DPS record shapes (dps-protocol.md §1.7) as the Azure Node SDK sends and returns them,
 * limited to the fields these compatibility tests read or write. Our own declarations: the SDK is
 * loaded as untyped CommonJS (see sdkAgent.ts).
 */

/** `info` that the service fills in for an X.509 certificate it holds. */
export interface X509CertificateInfo {
  subjectName: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  issuerName: string;
  notBeforeUtc: string;
  notAfterUtc: string;
  serialNumber: string;
  version: number;
}

/** A certificate slot: PEM (or base64 DER) going in, `info` coming back. */
export interface X509CertificateWithInfo {
  certificate?: string;
  info?: X509CertificateInfo;
}

/** How a device or group proves itself. */
export interface AttestationMechanism {
  type: 'none' | 'tpm' | 'x509' | 'symmetricKey';
  tpm?: { endorsementKey: string; storageRootKey?: string };
  x509?: {
    clientCertificates?: { primary?: X509CertificateWithInfo; secondary?: X509CertificateWithInfo };
    signingCertificates?: {
      primary?: X509CertificateWithInfo;
      secondary?: X509CertificateWithInfo;
    };
    caReferences?: { primary?: string; secondary?: string };
  };
  symmetricKey?: { primaryKey?: string; secondaryKey?: string };
}

/** Fields individual enrollments and enrollment groups share. */
export interface EnrollmentFields {
  attestation: AttestationMechanism;
  provisioningStatus?: 'enabled' | 'disabled';
  allocationPolicy?: 'hashed' | 'geoLatency' | 'static' | 'custom';
  iotHubs?: string[];
  initialTwin?: {
    tags?: Record<string, unknown>;
    properties?: { desired?: Record<string, unknown> };
  };
  capabilities?: { iotEdge: boolean };
  etag?: string;
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
}

/** One device's enrollment. */
export interface IndividualEnrollment extends EnrollmentFields {
  registrationId: string;
  deviceId?: string;
}

/** An enrollment shared by every device whose chain or derived key matches. */
export interface EnrollmentGroup extends EnrollmentFields {
  enrollmentGroupId: string;
}

/** What DPS records when a device registers (all read-only). */
export interface DeviceRegistrationState {
  registrationId: string;
  createdDateTimeUtc?: string;
  assignedHub?: string;
  deviceId?: string;
  status?: string;
  substatus?: string;
  errorCode?: number;
  errorMessage?: string;
  lastUpdatedDateTimeUtc?: string;
  etag?: string;
  symmetricKey?: { enrollmentGroupId?: string };
  x509?: { enrollmentGroupId?: string };
}

/** Node's own spelling of the modes: `updateIfMatchEtag` (the REST spec has `...ETag`). */
export interface BulkEnrollmentOperation {
  mode: 'create' | 'update' | 'updateIfMatchEtag' | 'delete';
  enrollments: IndividualEnrollment[];
}

/** One item that a bulk operation did not apply. */
export interface BulkEnrollmentOperationError {
  registrationId: string;
  errorCode: number;
  errorStatus: string;
}

/** HTTP 200 even when items fail; the failures are listed. */
export interface BulkEnrollmentOperationResult {
  isSuccessful: boolean;
  errors?: BulkEnrollmentOperationError[];
}

/** The body of a query request. */
export interface QuerySpecification {
  query: string;
}
