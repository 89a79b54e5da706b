import type { EnrollmentGroup, IndividualEnrollment } from '../service/serviceTypes.js';
import { twinPath, twinSectionProblems } from '../service/twinRules.js';
import {
  type EnrollmentKind,
  normalizeAttestation,
  objectOrFail,
} from './attestationValidation.js';
import { badRequest, ErrorCodes } from './errorBodies.js';

/**
 * The checks DPS makes on an enrollment or group body (dps-protocol.md §1.7, §3), and the
 * defaults it fills. Read-only fields a client sends back (etag, timestamps, registrationState)
 * are dropped; unknown fields are kept, as DPS may add fields the emulator does not know.
 */

/**
 * DPS ids: case-insensitive, at most 128 characters of alphanumerics and `- . _ :`, starting with
 * an alphanumeric; current DPS docs allow a trailing `-` as well as an alphanumeric.
 */
const DPS_ID = /^[a-z0-9](?:[a-z0-9._:-]{0,126}[a-z0-9-])?$/i;
/** IoT Hub device ids: case-sensitive, at most 128 ASCII characters from this set. */
const DEVICE_ID = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;

const POLICIES = ['hashed', 'geoLatency', 'static', 'custom'] as const;
const READ_ONLY = ['etag', 'createdDateTimeUtc', 'lastUpdatedDateTimeUtc', 'registrationState'];

/** The field naming a record's id. */
export function idField(kind: EnrollmentKind): 'registrationId' | 'enrollmentGroupId' {
  return kind === 'enrollment' ? 'registrationId' : 'enrollmentGroupId';
}

/** Says what is wrong with a registration or group id, or undefined when DPS accepts it. */
export function dpsIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id === '') return 'is missing';
  if (!DPS_ID.test(id)) {
    return 'must be 1-128 characters of letters, digits and - . _ :, starting with a letter or digit';
  }
  return undefined;
}

/** A validated record to store (without etag and timestamps, which the writer sets). */
export type EnrollmentRecord = IndividualEnrollment | EnrollmentGroup;

/**
 * Validates a PUT or bulk item body. `urlId`, when the id also came in the URL, must match the
 * body's id (case-insensitively). `linkedHubs` are the hubs an enrollment may name.
 */
export function normalizeEnrollment(
  kind: EnrollmentKind,
  body: unknown,
  linkedHubs: readonly string[],
  urlId?: string,
): EnrollmentRecord {
  const source = objectOrFail(
    body,
    kind === 'enrollment' ? 'The enrollment' : 'The enrollment group',
  );
  const field = idField(kind);
  const id = source[field];
  const problem = dpsIdProblem(id);
  if (problem !== undefined) throw badRequest(`${field} ${problem}.`);
  if (urlId !== undefined && (id as string).toLowerCase() !== urlId.toLowerCase()) {
    throw badRequest(
      `${field} in the body differs from the id in the URL.`,
      ErrorCodes.registrationIdMismatch,
    );
  }
  const record: Record<string, unknown> = { ...source };
  for (const name of READ_ONLY) delete record[name];
  if (kind === 'group') {
    delete record.deviceId;
    delete record.optionalDeviceInformation;
  }
  record.attestation = normalizeAttestation(kind, source.attestation);
  if (kind === 'enrollment' && source.deviceId !== undefined && source.deviceId !== null) {
    if (typeof source.deviceId !== 'string' || !DEVICE_ID.test(source.deviceId)) {
      throw badRequest('deviceId must be 1-128 characters allowed in an IoT Hub device id.');
    }
  }
  record.provisioningStatus = oneOf(
    source.provisioningStatus,
    ['enabled', 'disabled'],
    'enabled',
    'provisioningStatus',
  );
  record.capabilities = {
    iotEdge: booleanField(source.capabilities, 'iotEdge', false, 'capabilities'),
  };
  record.reprovisionPolicy = {
    updateHubAssignment: booleanField(
      source.reprovisionPolicy,
      'updateHubAssignment',
      true,
      'reprovisionPolicy',
    ),
    migrateDeviceData: booleanField(
      source.reprovisionPolicy,
      'migrateDeviceData',
      true,
      'reprovisionPolicy',
    ),
  };
  record.allocationPolicy = oneOf(source.allocationPolicy, POLICIES, 'hashed', 'allocationPolicy');
  normalizeHubs(record, source, linkedHubs);
  if (record.allocationPolicy === 'custom') {
    record.customAllocationDefinition = webhookDefinition(source.customAllocationDefinition);
  }
  for (const name of ['initialTwin', 'optionalDeviceInformation'] as const) {
    if (record[name] !== undefined && record[name] !== null) objectOrFail(record[name], name);
  }
  checkInitialTwin(record.initialTwin);
  return record as unknown as EnrollmentRecord;
}

/**
 * The twin DPS writes into the hub at registration must keep IoT Hub's twin rules (key names,
 * nesting, sizes: dps/service/twinRules.ts), or real DPS may refuse the enrollment. `$metadata`
 * and `$version` in desired properties are what DPS itself returns, so a record read and written
 * back keeps them.
 */
function checkInitialTwin(twin: unknown): void {
  if (twin === undefined || twin === null) return;
  const sections: { name: 'tags' | 'desired'; path: string[]; value: unknown }[] = [];
  const source = twin as Record<string, unknown>;
  sections.push({ name: 'tags', path: ['tags'], value: source.tags });
  if (source.properties !== undefined && source.properties !== null) {
    const properties = objectOrFail(source.properties, 'initialTwin.properties');
    sections.push({ name: 'desired', path: ['properties', 'desired'], value: properties.desired });
  }
  for (const { name, path, value } of sections) {
    if (value === undefined || value === null) continue;
    const where = twinPath('initialTwin', path);
    const problem = twinSectionProblems(name, objectOrFail(value, where), {
      allowReadOnly: true,
    })[0];
    if (problem !== undefined) {
      throw badRequest(`${twinPath(where, problem.path)}: ${problem.message}.`);
    }
  }
}

/** `iotHubs` must name linked hubs (kept in the linked hub's spelling); static needs exactly one. */
function normalizeHubs(
  record: Record<string, unknown>,
  source: Record<string, unknown>,
  linkedHubs: readonly string[],
): void {
  const linked = (name: unknown, where: string): string => {
    const hub =
      typeof name === 'string'
        ? linkedHubs.find((candidate) => candidate.toLowerCase() === name.toLowerCase())
        : undefined;
    if (hub === undefined) throw badRequest(`${where} names a hub that is not linked to this DPS.`);
    return hub;
  };
  if (source.iotHubs !== undefined && source.iotHubs !== null) {
    if (!Array.isArray(source.iotHubs)) throw badRequest('iotHubs must be an array of host names.');
    record.iotHubs = source.iotHubs.map((name) => linked(name, 'iotHubs'));
  }
  if (source.iotHubHostName !== undefined && source.iotHubHostName !== null) {
    record.iotHubHostName = linked(source.iotHubHostName, 'iotHubHostName');
  }
  if (record.allocationPolicy === 'static') {
    const hubs = candidateHubs(record as unknown as EnrollmentRecord, linkedHubs);
    if (hubs.length !== 1) {
      throw badRequest('The static allocation policy needs exactly one hub in iotHubs.');
    }
  }
}

/** The hubs an enrollment may be assigned to: its `iotHubs`, else the deprecated single hub, else all. */
export function candidateHubs(record: EnrollmentRecord, linkedHubs: readonly string[]): string[] {
  if (Array.isArray(record.iotHubs) && record.iotHubs.length > 0) return [...record.iotHubs];
  if (typeof record.iotHubHostName === 'string') return [record.iotHubHostName];
  return [...linkedHubs];
}

function webhookDefinition(value: unknown): { webhookUrl: string; apiVersion: string } {
  const definition = objectOrFail(value, 'customAllocationDefinition');
  let url: URL | undefined;
  try {
    url = typeof definition.webhookUrl === 'string' ? new URL(definition.webhookUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw badRequest('customAllocationDefinition.webhookUrl must be an http(s) URL.');
  }
  const apiVersion =
    typeof definition.apiVersion === 'string' ? definition.apiVersion : '2021-10-01';
  return { webhookUrl: definition.webhookUrl as string, apiVersion };
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  name: string,
): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return value as T;
  throw badRequest(`${name} must be one of ${allowed.join(', ')}.`);
}

function booleanField(container: unknown, name: string, fallback: boolean, where: string): boolean {
  if (container === undefined || container === null) return fallback;
  const value = objectOrFail(container, where)[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw badRequest(`${where}.${name} must be true or false.`);
  return value;
}
