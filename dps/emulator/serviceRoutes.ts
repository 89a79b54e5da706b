import type { IndividualEnrollment } from '../service/serviceTypes.js';
import type { EnrollmentKind } from './attestationValidation.js';
import { runBulkOperation } from './bulkOperation.js';
import type { EmulatorStore } from './emulatorStore.js';
import { type EnrollmentRecord, normalizeEnrollment } from './enrollmentValidation.js';
import {
  conditionFromIfMatch,
  deleteEnrollment,
  deleteRecord,
  getEnrollmentOrFail,
  TABLE,
  writeEnrollment,
} from './enrollmentWrites.js';
import { DpsHttpError, ErrorCodes } from './errorBodies.js';
import { type EmulatorRequest, header, jsonBody, jsonResponse } from './httpJson.js';
import { queryPage } from './queryPaging.js';
import { serviceView, type StoredRegistration } from './registrationStates.js';
import type { Route } from './routeTable.js';

/**
 * The service API (dps-protocol.md §1.4): individual enrollments, enrollment groups, bulk,
 * queries and registration states. Authentication happens before these handlers run.
 */
export interface ServiceRouteContext {
  store: EmulatorStore;
  linkedHubs: readonly string[];
}

export function serviceRoutes(context: ServiceRouteContext): Route[] {
  return [
    ...enrollmentRoutes(context, 'enrollment', 'enrollments'),
    ...enrollmentRoutes(context, 'group', 'enrollmentGroups'),
    ...registrationRoutes(context),
  ];
}

function enrollmentRoutes(
  { store, linkedHubs }: ServiceRouteContext,
  kind: EnrollmentKind,
  collection: string,
): Route[] {
  // What a read answers (GET, query): as real DPS, without symmetric keys. The write's own
  // answer (PUT) and the attestation mechanism read carry them.
  const view = (record: EnrollmentRecord): EnrollmentRecord =>
    withoutKeys(kind === 'enrollment' ? withRegistrationState(store, record) : record);
  return [
    {
      method: 'POST',
      pattern: [collection, 'query'],
      kind: 'service',
      handle: (request) =>
        queryPage<EnrollmentRecord>(
          store,
          TABLE[kind],
          request,
          kind === 'enrollment' ? 'Enrollment' : 'EnrollmentGroup',
          { view: (row) => view(row.record) },
        ),
    },
    {
      method: 'POST',
      pattern: [collection],
      kind: 'service',
      handle: (request) =>
        jsonResponse(runBulkOperation(store, kind, jsonBody(request), linkedHubs)),
    },
    {
      method: 'PUT',
      pattern: [collection, '{id}'],
      kind: 'service',
      handle: (request, { id }) => {
        const record = normalizeEnrollment(kind, jsonBody(request), linkedHubs, id);
        const written = writeEnrollment(store, kind, record, ifMatchCondition(request));
        const answer = written.record;
        return jsonResponse(kind === 'enrollment' ? withRegistrationState(store, answer) : answer);
      },
    },
    {
      method: 'GET',
      pattern: [collection, '{id}'],
      kind: 'service',
      handle: (_request, { id }) => jsonResponse(view(getEnrollmentOrFail(store, kind, id!))),
    },
    {
      method: 'DELETE',
      pattern: [collection, '{id}'],
      kind: 'service',
      handle: (request, { id }) => {
        deleteEnrollment(store, kind, id!, header(request, 'if-match'));
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: [collection, '{id}', 'attestationmechanism'],
      kind: 'service',
      handle: (_request, { id }) => jsonResponse(getEnrollmentOrFail(store, kind, id!).attestation),
    },
  ];
}

function registrationRoutes({ store }: ServiceRouteContext): Route[] {
  const notFound = { code: ErrorCodes.registrationNotFound, noun: 'device registration state' };
  return [
    {
      method: 'GET',
      pattern: ['registrations', '{id}'],
      kind: 'service',
      handle: (_request, { id }) => {
        const row = store.get<StoredRegistration>('registrations', id!);
        if (row === undefined) {
          throw new DpsHttpError(
            404,
            notFound.code,
            'Not found: no device registration state with this id.',
          );
        }
        return jsonResponse(serviceView(row.record));
      },
    },
    {
      method: 'DELETE',
      pattern: ['registrations', '{id}'],
      kind: 'service',
      handle: (request, { id }) => {
        deleteRecord(store, 'registrations', id!, header(request, 'if-match'), notFound);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: ['registrations', '{id}', 'query'],
      kind: 'service',
      handle: (request: EmulatorRequest, { id }) =>
        queryPage<StoredRegistration>(store, 'registrations', request, 'DeviceRegistration', {
          groupId: id!,
          view: (row) => serviceView(row.record),
        }),
    },
  ];
}

function ifMatchCondition(request: EmulatorRequest): ReturnType<typeof conditionFromIfMatch> {
  return conditionFromIfMatch(header(request, 'if-match'));
}

/**
 * A record as DPS reads it out: a symmetric-key attestation's keys withheld. Real DPS answers
 * GET without them "by design" (Azure/azure-iot-sdk-java#674); the Azure CLI's `--show-keys`
 * and the SDKs read them through `attestationmechanism`.
 */
function withoutKeys(record: EnrollmentRecord): EnrollmentRecord {
  const { attestation } = record;
  if (attestation?.symmetricKey === undefined) return record;
  return { ...record, attestation: { ...attestation, symmetricKey: {} } };
}

/** DPS shows a registered device's state on its individual enrollment. */
function withRegistrationState(store: EmulatorStore, record: EnrollmentRecord): EnrollmentRecord {
  const enrollment = record as IndividualEnrollment;
  const state = store.get<StoredRegistration>('registrations', enrollment.registrationId);
  return state === undefined
    ? record
    : { ...enrollment, registrationState: serviceView(state.record) };
}
