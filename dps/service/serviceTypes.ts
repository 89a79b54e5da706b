/**
 * The DPS service API's records as the station reads and writes them (api-version 2021-10-01,
 * dps-protocol.md §1.7). Only the fields the station uses are typed; DPS may send more, and a
 * record read back keeps them (`[field: string]: unknown`).
 */

export interface X509CertificateRef {
  /** PEM text or base64 DER. */
  certificate?: string;
  info?: Record<string, unknown>;
}

export interface AttestationMechanism {
  type: 'none' | 'tpm' | 'x509' | 'symmetricKey';
  tpm?: { endorsementKey: string; storageRootKey?: string };
  x509?: {
    clientCertificates?: { primary?: X509CertificateRef; secondary?: X509CertificateRef };
    signingCertificates?: { primary?: X509CertificateRef; secondary?: X509CertificateRef };
    caReferences?: { primary?: string; secondary?: string };
  };
  /** Secrets: never logged. */
  symmetricKey?: { primaryKey?: string; secondaryKey?: string };
}

export interface InitialTwin {
  tags?: Record<string, unknown>;
  properties?: { desired?: Record<string, unknown> };
}

export type AllocationPolicy = 'hashed' | 'geoLatency' | 'static' | 'custom';

interface EnrollmentCommon {
  attestation: AttestationMechanism;
  capabilities?: { iotEdge: boolean };
  iotHubHostName?: string;
  initialTwin?: InitialTwin;
  etag?: string;
  provisioningStatus?: 'enabled' | 'disabled';
  reprovisionPolicy?: { updateHubAssignment: boolean; migrateDeviceData: boolean };
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
  allocationPolicy?: AllocationPolicy;
  iotHubs?: string[];
  customAllocationDefinition?: { webhookUrl: string; apiVersion: string };
  [field: string]: unknown;
}

export interface IndividualEnrollment extends EnrollmentCommon {
  registrationId: string;
  deviceId?: string;
  registrationState?: DeviceRegistrationState;
  optionalDeviceInformation?: Record<string, unknown>;
}

export interface EnrollmentGroup extends EnrollmentCommon {
  enrollmentGroupId: string;
}

export interface DeviceRegistrationState {
  registrationId: string;
  createdDateTimeUtc?: string;
  assignedHub?: string;
  deviceId?: string;
  status: 'unassigned' | 'assigning' | 'assigned' | 'failed' | 'disabled';
  substatus?: string;
  errorCode?: number;
  errorMessage?: string;
  lastUpdatedDateTimeUtc?: string;
  etag?: string;
  [field: string]: unknown;
}

/** Bulk modes (§1.5). DPS compares them case-insensitively. */
export type BulkMode = 'create' | 'update' | 'updateIfMatchETag' | 'delete';

export interface BulkItemError {
  registrationId: string;
  errorCode: number;
  errorStatus: string;
}

export interface BulkResult {
  isSuccessful: boolean;
  errors: BulkItemError[];
}

/** One page of a query; `continuationToken` is absent on the last page. */
export interface QueryPage<T> {
  items: T[];
  continuationToken?: string;
}

/**
 * What a caller of the service API needs. `DpsServiceClient` implements it over HTTPS; the sync
 * worker depends on this interface only. Every method is one HTTP request (one DPS operation) and
 * throws DpsError on failure.
 */
export interface DpsServiceApi {
  /** PUT. Without `ifMatch` DPS creates and answers 409 if the record exists; `*` forces. */
  createOrUpdateEnrollment(
    enrollment: IndividualEnrollment,
    ifMatch?: string,
  ): Promise<IndividualEnrollment>;
  /** GET; resolves undefined on 404 (absence is an answer, not an error). */
  getEnrollment(registrationId: string): Promise<IndividualEnrollment | undefined>;
  deleteEnrollment(registrationId: string, ifMatch?: string): Promise<void>;
  /** POST /enrollments/{id}/attestationmechanism: the attestation with keys. */
  getEnrollmentAttestation(registrationId: string): Promise<AttestationMechanism>;
  /** POST /enrollments: at most 10 items; per-item results. */
  bulkEnrollments(mode: BulkMode, enrollments: IndividualEnrollment[]): Promise<BulkResult>;
  queryEnrollments(
    query: string,
    options?: { pageSize?: number; continuationToken?: string },
  ): Promise<QueryPage<IndividualEnrollment>>;

  createOrUpdateEnrollmentGroup(group: EnrollmentGroup, ifMatch?: string): Promise<EnrollmentGroup>;
  /**
   * GET; resolves undefined on 404. DPS withholds a symmetric-key group's keys here, as on an
   * individual enrollment's GET: getEnrollmentGroupAttestation returns them.
   */
  getEnrollmentGroup(enrollmentGroupId: string): Promise<EnrollmentGroup | undefined>;
  /** POST /enrollmentGroups/{id}/attestationmechanism: the group's attestation with keys. */
  getEnrollmentGroupAttestation(enrollmentGroupId: string): Promise<AttestationMechanism>;
  deleteEnrollmentGroup(enrollmentGroupId: string, ifMatch?: string): Promise<void>;
  queryEnrollmentGroups(
    query: string,
    options?: { pageSize?: number; continuationToken?: string },
  ): Promise<QueryPage<EnrollmentGroup>>;

  getRegistrationState(registrationId: string): Promise<DeviceRegistrationState | undefined>;
  deleteRegistrationState(registrationId: string, ifMatch?: string): Promise<void>;
}

/** The largest bulk operation DPS accepts. */
export const MAX_BULK_ITEMS = 10;
