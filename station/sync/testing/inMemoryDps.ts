import { createHash, randomBytes } from 'node:crypto';
import type {
  BulkItemError,
  BulkMode,
  BulkResult,
  DeviceRegistrationState,
  DpsServiceApi,
  EnrollmentGroup,
  IndividualEnrollment,
  QueryPage,
} from '../../../dps/service/serviceTypes.js';
import { MAX_BULK_ITEMS } from '../../../dps/service/serviceTypes.js';
import { certificateDer } from '../credentialFingerprint.js';
import { dpsRefusal, faultError, type DpsFault } from './dpsFaults.js';

export type { DpsFault } from './dpsFaults.js';

export type DpsMethod = keyof DpsServiceApi;

/** One call as DPS received it. */
export interface DpsCall {
  method: DpsMethod;
  at: number;
  registrationIds: string[];
  mode?: BulkMode;
  ifMatch?: string;
  /** The enrollments sent (bulk, PUT), as received, keys included. */
  enrollments?: IndividualEnrollment[];
}

/** An item refusal, as DPS puts it in a bulk result. */
export type ItemRefusal = Pick<BulkItemError, 'errorCode' | 'errorStatus'>;

/**
 * A stand-in for DPS, IN MEMORY, FOR TESTS of the sync worker (the real emulator is
 * dps/emulator/, used by the e2e suites). It keeps individual enrollments with the ETag rules of
 * dps-protocol.md §1.8 (PUT without If-Match creates or answers 409, `*` or the current etag
 * updates, another etag is 412), bulk operations of at most 10 items with per-item errors, and
 * withholds symmetric keys on GET. Tests can make the next calls fail (throttled, 500, refused,
 * reset or timed out before or after DPS applied them), hold a call until released, and read
 * every call it received.
 */
export class InMemoryDps implements DpsServiceApi {
  readonly calls: DpsCall[] = [];
  /** How many times DPS created each registration ID (lower-case). More than 1 is a defect. */
  readonly creations = new Map<string, number>();
  /** Refuse some items (as DPS would refuse a bad certificate); undefined accepts. */
  refuseItem: (enrollment: IndividualEnrollment) => ItemRefusal | undefined = () => undefined;
  /** Answer GET with `info` thumbprints only, no certificate text. */
  echoCertificates = true;
  /** GET withholds symmetric keys (as DPS probably does; the attestation read returns them). */
  withholdKeysOnGet = true;
  private readonly records = new Map<string, IndividualEnrollment>();
  private readonly groups = new Map<string, EnrollmentGroup>();
  private readonly faults: { method: DpsMethod | '*'; fault: DpsFault }[] = [];
  private readonly holds = new Map<DpsMethod, { reached: () => void; released: Promise<void> }>();
  private etags = 0;

  constructor(private readonly clock: { now(): number } = Date) {}

  /** The next `times` calls of `method` (`*`: of any method) fail with `fault`. */
  failNext(method: DpsMethod | '*', fault: DpsFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ method, fault });
  }

  /** Holds the next call of `method` once it arrived until `release()`. */
  holdNext(method: DpsMethod): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    this.holds.set(method, { reached, released });
    return { reached: arrived, release };
  }

  /**
   * Puts a record straight into DPS, as someone else (the portal, another station) would: a new
   * one, or a change of an existing one (new etag).
   */
  seed(enrollment: IndividualEnrollment): IndividualEnrollment {
    const existing = this.records.get(enrollment.registrationId.toLowerCase());
    return structuredClone(this.store(enrollment, existing));
  }

  /** What DPS holds, keys included (tests only). */
  held(registrationId: string): IndividualEnrollment | undefined {
    const record = this.records.get(registrationId.toLowerCase());
    return record && structuredClone(record);
  }

  get size(): number {
    return this.records.size;
  }

  callsOf(method: DpsMethod): DpsCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  createOrUpdateEnrollment(e: IndividualEnrollment, ifMatch?: string) {
    const call = { registrationIds: [e.registrationId], enrollments: [structuredClone(e)] };
    return this.run('createOrUpdateEnrollment', { ...call, ...(ifMatch && { ifMatch }) }, () => {
      const key = e.registrationId.toLowerCase();
      const existing = this.records.get(key);
      if (ifMatch === undefined && existing) throw dpsRefusal(409, 409201, 'Conflict');
      if (ifMatch !== undefined && ifMatch !== '*') {
        if (!existing) throw dpsRefusal(404, 404201, 'Enrollment not found');
        if (unquote(ifMatch) !== unquote(existing.etag ?? '')) {
          throw dpsRefusal(412, 412001, 'ETag mismatch');
        }
      }
      const refusal = this.check(e);
      if (refusal) throw dpsRefusal(400, refusal.errorCode, refusal.errorStatus);
      return this.view(this.store(e, existing));
    });
  }

  getEnrollment(registrationId: string) {
    return this.run('getEnrollment', { registrationIds: [registrationId] }, () => {
      const record = this.records.get(registrationId.toLowerCase());
      return record && this.view(record);
    });
  }

  deleteEnrollment(registrationId: string, ifMatch?: string) {
    return this.run('deleteEnrollment', { registrationIds: [registrationId] }, () => {
      const record = this.records.get(registrationId.toLowerCase());
      if (!record) throw dpsRefusal(404, 404201, 'Enrollment not found');
      if (ifMatch && ifMatch !== '*' && unquote(ifMatch) !== unquote(record.etag ?? '')) {
        throw dpsRefusal(412, 412001, 'ETag mismatch');
      }
      this.records.delete(registrationId.toLowerCase());
    });
  }

  getEnrollmentAttestation(registrationId: string) {
    return this.run('getEnrollmentAttestation', { registrationIds: [registrationId] }, () => {
      const record = this.records.get(registrationId.toLowerCase());
      if (!record) throw dpsRefusal(404, 404201, 'Enrollment not found');
      return structuredClone(record.attestation);
    });
  }

  bulkEnrollments(mode: BulkMode, enrollments: IndividualEnrollment[]) {
    const call = {
      mode,
      registrationIds: enrollments.map((e) => e.registrationId),
      enrollments: structuredClone(enrollments),
    };
    return this.run('bulkEnrollments', call, (): BulkResult => {
      if (enrollments.length > MAX_BULK_ITEMS)
        throw dpsRefusal(400, 400001, 'Too many enrollments');
      const errors: BulkItemError[] = [];
      for (const e of enrollments) {
        const refusal = this.bulkItem(mode.toLowerCase(), e);
        if (refusal) errors.push({ registrationId: e.registrationId, ...refusal });
      }
      return { isSuccessful: errors.length === 0, errors };
    });
  }

  queryEnrollments(
    _query: string,
    options: { pageSize?: number; continuationToken?: string } = {},
  ) {
    return this.run('queryEnrollments', { registrationIds: [] }, () =>
      page(
        [...this.records.values()].map((r) => this.view(r)),
        options,
      ),
    );
  }

  createOrUpdateEnrollmentGroup(group: EnrollmentGroup, ifMatch?: string) {
    return this.run('createOrUpdateEnrollmentGroup', { registrationIds: [] }, () => {
      const key = group.enrollmentGroupId.toLowerCase();
      const existing = this.groups.get(key);
      if (ifMatch === undefined && existing) throw dpsRefusal(409, 409201, 'Conflict');
      if (ifMatch && ifMatch !== '*' && unquote(ifMatch) !== unquote(existing?.etag ?? '')) {
        throw dpsRefusal(412, 412001, 'ETag mismatch');
      }
      const stored = { ...structuredClone(group), etag: this.nextEtag() };
      this.groups.set(key, stored);
      return structuredClone(stored);
    });
  }

  getEnrollmentGroup(id: string) {
    return this.run('getEnrollmentGroup', { registrationIds: [] }, () => {
      const group = this.groups.get(id.toLowerCase());
      if (!group) return undefined;
      const copy = structuredClone(group);
      if (copy.attestation.symmetricKey && this.withholdKeysOnGet)
        copy.attestation.symmetricKey = {};
      return copy;
    });
  }

  getEnrollmentGroupAttestation(id: string) {
    return this.run('getEnrollmentGroupAttestation', { registrationIds: [] }, () => {
      const group = this.groups.get(id.toLowerCase());
      if (!group) throw dpsRefusal(404, 404202, 'Group not found');
      return structuredClone(group.attestation);
    });
  }

  deleteEnrollmentGroup(id: string) {
    return this.run('deleteEnrollmentGroup', { registrationIds: [] }, () => {
      if (!this.groups.delete(id.toLowerCase())) throw dpsRefusal(404, 404202, 'Group not found');
    });
  }

  queryEnrollmentGroups(
    _query: string,
    options: { pageSize?: number; continuationToken?: string } = {},
  ) {
    return this.run('queryEnrollmentGroups', { registrationIds: [] }, () =>
      page(
        [...this.groups.values()].map((g) => structuredClone(g)),
        options,
      ),
    );
  }

  getRegistrationState(registrationId: string) {
    return this.run('getRegistrationState', { registrationIds: [registrationId] }, () => {
      return undefined as DeviceRegistrationState | undefined;
    });
  }

  deleteRegistrationState(registrationId: string) {
    return this.run('deleteRegistrationState', { registrationIds: [registrationId] }, () => {
      throw dpsRefusal(404, 404201, 'Registration not found');
    });
  }

  /** Logs the call, waits on a hold, applies faults around `apply`. */
  private async run<T>(
    method: DpsMethod,
    call: Omit<DpsCall, 'method' | 'at'>,
    apply: () => T,
  ): Promise<T> {
    this.calls.push({ method, at: this.clock.now(), ...call });
    const hold = this.holds.get(method);
    if (hold) {
      this.holds.delete(method);
      hold.reached();
      await hold.released;
    }
    const index = this.faults.findIndex((f) => f.method === method || f.method === '*');
    const fault = index >= 0 ? this.faults.splice(index, 1)[0]!.fault : undefined;
    const appliedFirst = fault && 'applied' in fault && fault.applied;
    if (fault && !appliedFirst) throw faultError(fault);
    const result = apply();
    if (fault) throw faultError(fault);
    return result;
  }

  private bulkItem(mode: string, e: IndividualEnrollment): ItemRefusal | undefined {
    const key = e.registrationId?.toLowerCase() ?? '';
    const existing = this.records.get(key);
    if (mode === 'delete') {
      if (!existing) return { errorCode: 404201, errorStatus: 'Enrollment not found' };
      this.records.delete(key);
      return undefined;
    }
    if (mode === 'create' && existing) {
      return { errorCode: 409201, errorStatus: 'Enrollment already exists' };
    }
    if (
      mode === 'updateifmatchetag' &&
      existing &&
      unquote(e.etag ?? '') !== unquote(existing.etag ?? '')
    ) {
      return { errorCode: 412001, errorStatus: 'ETag mismatch' };
    }
    const refusal = this.check(e);
    if (refusal) return refusal;
    this.store(e, existing);
    return undefined;
  }

  /** DPS's own checks of an enrollment, then the test's. */
  private check(e: IndividualEnrollment): ItemRefusal | undefined {
    const a = e.attestation;
    const valid =
      typeof e.registrationId === 'string' &&
      /^[a-z0-9]([a-z0-9._:-]{0,126}[a-z0-9])?$/i.test(e.registrationId) &&
      ((a?.type === 'x509' && !!a.x509?.clientCertificates?.primary?.certificate) ||
        (a?.type === 'tpm' && !!a.tpm?.endorsementKey) ||
        (a?.type === 'symmetricKey' && keyOk(a.symmetricKey?.primaryKey)));
    if (!valid) return { errorCode: 400004, errorStatus: 'Invalid enrollment' };
    return this.refuseItem(e);
  }

  private store(e: IndividualEnrollment, existing: IndividualEnrollment | undefined) {
    const key = e.registrationId.toLowerCase();
    const now = new Date(this.clock.now()).toISOString();
    const attestation = structuredClone(e.attestation);
    if (attestation.type === 'symmetricKey') {
      // DPS makes the keys it was not given.
      attestation.symmetricKey = {
        primaryKey: attestation.symmetricKey?.primaryKey ?? randomBytes(64).toString('base64'),
        secondaryKey: attestation.symmetricKey?.secondaryKey ?? randomBytes(64).toString('base64'),
      };
    }
    const record: IndividualEnrollment = {
      ...structuredClone(e),
      attestation,
      etag: this.nextEtag(),
      createdDateTimeUtc: existing?.createdDateTimeUtc ?? now,
      lastUpdatedDateTimeUtc: now,
    };
    if (!existing) this.creations.set(key, (this.creations.get(key) ?? 0) + 1);
    this.records.set(key, record);
    return record;
  }

  /** A record as GET answers it: keys withheld, certificates described. */
  private view(record: IndividualEnrollment): IndividualEnrollment {
    const copy = structuredClone(record);
    if (copy.attestation.symmetricKey && this.withholdKeysOnGet) copy.attestation.symmetricKey = {};
    const primary = copy.attestation.x509?.clientCertificates?.primary;
    if (primary?.certificate) {
      const der = certificateDer(primary.certificate);
      primary.info = {
        sha1Thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
        sha256Thumbprint: createHash('sha256').update(der).digest('hex').toUpperCase(),
      };
      if (!this.echoCertificates) delete primary.certificate;
    }
    return copy;
  }

  private nextEtag(): string {
    return Buffer.from(`"etag-${++this.etags}"`).toString('base64');
  }
}

const unquote = (etag: string): string => etag.replace(/^"(.*)"$/, '$1');

function keyOk(key: string | undefined): boolean {
  if (key === undefined) return true; // DPS generates it
  const bytes = Buffer.from(key, 'base64');
  return bytes.length >= 16 && bytes.length <= 64 && bytes.toString('base64') === key;
}

function page<T>(
  items: T[],
  options: { pageSize?: number; continuationToken?: string },
): QueryPage<T> {
  const start = Number(options.continuationToken ?? 0);
  const size = options.pageSize ?? 100;
  const next = start + size;
  return {
    items: items.slice(start, next),
    ...(next < items.length && { continuationToken: String(next) }),
  };
}
