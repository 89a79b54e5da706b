import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  serviceSasProblem,
  startServiceFixture,
  type ScriptedReply,
  type ServiceFixture,
} from '../testing/serviceFixture.js';
import type { DpsServiceClient } from './dpsServiceClient.js';
import type { EnrollmentGroup, IndividualEnrollment } from './serviceTypes.js';

/**
 * The service client's wire, seen by a real HTTPS server on loopback: request line, headers,
 * body and the answer's decoding for every method. Sessions and paging are in
 * dpsServiceClient.session.test.ts, failures in dpsServiceClient.errors.test.ts.
 */

let fx: ServiceFixture;
let client: DpsServiceClient;
beforeAll(async () => {
  fx = await startServiceFixture();
  client = fx.newClient();
});
afterAll(() => fx.close());

/** An id that must be encoded as one path segment. */
const ID = 'dev 01/x';
const ENCODED_ID = 'dev%2001%2Fx';
const enrollment: IndividualEnrollment = {
  registrationId: ID,
  attestation: { type: 'symmetricKey' },
  etag: 'IkFBQSI=',
};
const stored: IndividualEnrollment = {
  ...enrollment,
  etag: 'IkJCQiI=',
  provisioningStatus: 'enabled',
};
const group: EnrollmentGroup = { enrollmentGroupId: 'grp 1', attestation: { type: 'x509' } };

type BodyKind = 'json' | 'none' | 'empty-post';

interface WireCase {
  name: string;
  call: () => Promise<unknown>;
  reply: ScriptedReply;
  method: string;
  path: string;
  body: BodyKind;
  sent?: unknown;
  accept: boolean;
  ifMatch?: string;
  extra?: Record<string, string>;
  result: unknown;
}

const cases: WireCase[] = [
  {
    name: 'createOrUpdateEnrollment with If-Match',
    call: () => client.createOrUpdateEnrollment(enrollment, 'IkFBQSI='),
    reply: { status: 200, body: stored },
    method: 'PUT',
    path: `/enrollments/${ENCODED_ID}`,
    body: 'json',
    sent: enrollment,
    accept: true,
    ifMatch: 'IkFBQSI=',
    result: stored,
  },
  {
    name: 'createOrUpdateEnrollment without If-Match (body etag is not promoted)',
    call: () => client.createOrUpdateEnrollment(enrollment),
    reply: { status: 200, body: stored },
    method: 'PUT',
    path: `/enrollments/${ENCODED_ID}`,
    body: 'json',
    sent: enrollment,
    accept: true,
    result: stored,
  },
  {
    name: 'getEnrollment',
    call: () => client.getEnrollment(ID),
    reply: { status: 200, body: stored },
    method: 'GET',
    path: `/enrollments/${ENCODED_ID}`,
    body: 'none',
    accept: true,
    result: stored,
  },
  {
    name: 'deleteEnrollment with If-Match *',
    call: () => client.deleteEnrollment(ID, '*'),
    reply: { status: 204 },
    method: 'DELETE',
    path: `/enrollments/${ENCODED_ID}`,
    body: 'none',
    accept: false,
    ifMatch: '*',
    result: undefined,
  },
  {
    name: 'deleteEnrollment without If-Match',
    call: () => client.deleteEnrollment(ID),
    reply: { status: 204 },
    method: 'DELETE',
    path: `/enrollments/${ENCODED_ID}`,
    body: 'none',
    accept: false,
    result: undefined,
  },
  {
    name: 'getEnrollmentAttestation',
    call: () => client.getEnrollmentAttestation(ID),
    reply: { status: 200, body: { type: 'symmetricKey', symmetricKey: { primaryKey: 'a2V5' } } },
    method: 'POST',
    path: `/enrollments/${ENCODED_ID}/attestationmechanism`,
    body: 'empty-post',
    accept: false,
    result: { type: 'symmetricKey', symmetricKey: { primaryKey: 'a2V5' } },
  },
  {
    name: 'bulkEnrollments',
    call: () =>
      client.bulkEnrollments('create', [enrollment, { ...enrollment, registrationId: 'b' }]),
    reply: {
      status: 200,
      body: {
        isSuccessful: false,
        errors: [{ registrationId: 'b', errorCode: 409201, errorStatus: 'exists' }],
      },
    },
    method: 'POST',
    path: '/enrollments',
    body: 'json',
    sent: { mode: 'create', enrollments: [enrollment, { ...enrollment, registrationId: 'b' }] },
    accept: true,
    result: {
      isSuccessful: false,
      errors: [{ registrationId: 'b', errorCode: 409201, errorStatus: 'exists' }],
    },
  },
  {
    name: 'queryEnrollments with a page size',
    call: () => client.queryEnrollments('SELECT * FROM enrollments', { pageSize: 2 }),
    reply: { status: 200, body: [stored], headers: { 'x-ms-continuation': 'page-2' } },
    method: 'POST',
    path: '/enrollments/query',
    body: 'json',
    sent: { query: 'SELECT * FROM enrollments' },
    accept: true,
    extra: { 'x-ms-max-item-count': '2' },
    result: { items: [stored], continuationToken: 'page-2' },
  },
  {
    name: 'createOrUpdateEnrollmentGroup with a quoted etag, sent as given',
    call: () => client.createOrUpdateEnrollmentGroup(group, '"etag-1"'),
    reply: { status: 200, body: { ...group, etag: 'etag-2' } },
    method: 'PUT',
    path: '/enrollmentGroups/grp%201',
    body: 'json',
    sent: group,
    accept: true,
    ifMatch: '"etag-1"',
    result: { ...group, etag: 'etag-2' },
  },
  {
    name: 'getEnrollmentGroup',
    call: () => client.getEnrollmentGroup('grp 1'),
    reply: { status: 200, body: group },
    method: 'GET',
    path: '/enrollmentGroups/grp%201',
    body: 'none',
    accept: true,
    result: group,
  },
  {
    name: 'deleteEnrollmentGroup',
    call: () => client.deleteEnrollmentGroup('grp 1', 'etag-2'),
    reply: { status: 204 },
    method: 'DELETE',
    path: '/enrollmentGroups/grp%201',
    body: 'none',
    accept: false,
    ifMatch: 'etag-2',
    result: undefined,
  },
  {
    name: 'queryEnrollmentGroups with a continuation',
    call: () =>
      client.queryEnrollmentGroups('SELECT * FROM enrollmentGroups', { continuationToken: 'c/2' }),
    reply: { status: 200, body: [group] },
    method: 'POST',
    path: '/enrollmentGroups/query',
    body: 'json',
    sent: { query: 'SELECT * FROM enrollmentGroups' },
    accept: true,
    extra: { 'x-ms-continuation': 'c/2' },
    result: { items: [group] },
  },
  {
    name: 'getRegistrationState',
    call: () => client.getRegistrationState(ID),
    reply: { status: 200, body: { registrationId: ID, status: 'assigned', assignedHub: 'h' } },
    method: 'GET',
    path: `/registrations/${ENCODED_ID}`,
    body: 'none',
    accept: true,
    result: { registrationId: ID, status: 'assigned', assignedHub: 'h' },
  },
  {
    name: 'deleteRegistrationState',
    call: () => client.deleteRegistrationState(ID, 'r-etag'),
    reply: { status: 204 },
    method: 'DELETE',
    path: `/registrations/${ENCODED_ID}`,
    body: 'none',
    accept: false,
    ifMatch: 'r-etag',
    result: undefined,
  },
];

describe('DpsServiceClient: the wire of every method', () => {
  it.each(cases)('$name', async (c) => {
    const { result, request } = await fx.exchange(c.reply, c.call);
    expect(result).toEqual(c.result);
    expect(request.method).toBe(c.method);
    expect(request.path).toBe(c.path);
    expect([...request.query]).toEqual([['api-version', '2021-10-01']]);

    const h = request.headers;
    expect(
      serviceSasProblem(h.authorization, fx.server.hostName, fx.policyName, fx.key),
    ).toBeUndefined();
    expect(h['request-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(h['user-agent']).toMatch(/^line-station-dps-service\/\d+$/);
    expect(h.host).toBe(fx.server.hostName);
    expect(h.accept).toBe(c.accept ? 'application/json' : undefined);
    expect(h['if-match']).toBe(c.ifMatch);
    for (const [name, value] of Object.entries(c.extra ?? {})) expect(h[name]).toBe(value);
    if (!('x-ms-max-item-count' in (c.extra ?? {})))
      expect(h['x-ms-max-item-count']).toBeUndefined();
    if (!('x-ms-continuation' in (c.extra ?? {}))) expect(h['x-ms-continuation']).toBeUndefined();

    expect(h['transfer-encoding']).toBeUndefined();
    if (c.body === 'json') {
      expect(h['content-type']).toBe('application/json; charset=utf-8');
      expect(h['content-length']).toBe(String(request.body.length));
      expect(JSON.parse(request.body.toString('utf8'))).toEqual(c.sent);
    } else {
      expect(h['content-type']).toBeUndefined();
      expect(request.body).toHaveLength(0);
      expect(h['content-length']).toBe(c.body === 'empty-post' ? '0' : undefined);
    }
  });
});
