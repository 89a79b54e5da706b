import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpsError } from '../dpsErrors.js';
import { sendJson } from '../testing/loopbackHttpsServer.js';
import {
  serviceSasProblem,
  startServiceFixture,
  type ServiceFixture,
} from '../testing/serviceFixture.js';
import { DpsServiceClient } from './dpsServiceClient.js';
import type { IndividualEnrollment } from './serviceTypes.js';

/**
 * The service client's session: absence as an answer, query paging, bulk limits, one SAS token
 * and one keep-alive connection reused, SNI and host:port, and the connection string check.
 */

let fx: ServiceFixture;
let client: DpsServiceClient;
beforeAll(async () => {
  fx = await startServiceFixture();
  client = fx.newClient();
});
afterAll(() => fx.close());

const ID = 'dev-01';
const enrollment: IndividualEnrollment = { registrationId: ID, attestation: { type: 'none' } };
const stored: IndividualEnrollment = { ...enrollment, etag: 'IkJCQiI=' };

describe('DpsServiceClient: session', () => {
  it('a 404 on a GET is an answer: undefined', async () => {
    const notFound = { status: 404, body: { errorCode: 404201, message: 'not found' } };
    expect(
      (await fx.exchange(notFound, () => client.getEnrollment('gone'))).result,
    ).toBeUndefined();
    expect(
      (await fx.exchange(notFound, () => client.getEnrollmentGroup('gone'))).result,
    ).toBeUndefined();
    expect(
      (await fx.exchange(notFound, () => client.getRegistrationState('gone'))).result,
    ).toBeUndefined();
  });

  it('walks query pages by continuation token; an empty token means the last page', async () => {
    const first = await fx.exchange(
      { status: 200, body: [stored], headers: { 'x-ms-continuation': 'tok 2' } },
      () => client.queryEnrollments('SELECT * FROM enrollments', { pageSize: 1 }),
    );
    expect(first.result.continuationToken).toBe('tok 2');
    const second = await fx.exchange(
      { status: 200, body: [], headers: { 'x-ms-continuation': '' } },
      () =>
        client.queryEnrollments('SELECT * FROM enrollments', {
          pageSize: 1,
          continuationToken: first.result.continuationToken,
        }),
    );
    expect(second.request.headers['x-ms-continuation']).toBe('tok 2');
    expect(second.result).toEqual({ items: [] });
    expect('continuationToken' in second.result).toBe(false);
  });

  it('defaults bulk errors to [] when DPS leaves them out', async () => {
    const { result } = await fx.exchange({ status: 200, body: { isSuccessful: true } }, () =>
      client.bulkEnrollments('delete', [enrollment]),
    );
    expect(result).toEqual({ isSuccessful: true, errors: [] });
  });

  it('a bulk item error without a numeric errorCode is DPS_RESPONSE_INVALID, not a verdict', async () => {
    // The sync worker settles each item by its errorCode: a missing or garbled one must not
    // fail an enrollment for good.
    for (const item of [{ registrationId: ID }, { registrationId: ID, errorCode: 'soon' }]) {
      const bad = { status: 200, body: { isSuccessful: false, errors: [item] } };
      const err = await fx
        .exchange(bad, () => client.bulkEnrollments('create', [enrollment]))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(DpsError);
      expect((err as DpsError).code).toBe('DPS_RESPONSE_INVALID');
    }
  });

  it('bulk item errorStatus is kept short and without secrets the server echoes', async () => {
    fx.server.handle((req, res) =>
      sendJson(res, 200, {
        isSuccessful: false,
        errors: [
          {
            registrationId: ID,
            errorCode: 400004,
            errorStatus: `bad ${req.headers.authorization} ${fx.key} ${'x'.repeat(5000)}`,
          },
        ],
      }),
    );
    const result = await client.bulkEnrollments('create', [enrollment]);
    const status = result.errors[0]!.errorStatus;
    expect(result.errors[0]).toMatchObject({ registrationId: ID, errorCode: 400004 });
    expect(status).toContain('[redacted]');
    expect(status).not.toContain(fx.key);
    expect(status).not.toContain('SharedAccessSignature sr');
    expect(status.length).toBeLessThanOrEqual(300);
  });

  it('refuses more than 10 bulk items locally, sending nothing', async () => {
    const before = fx.server.requests.length;
    const eleven = Array.from({ length: 11 }, (_, i) => ({
      ...enrollment,
      registrationId: `d${i}`,
    }));
    await expect(client.bulkEnrollments('create', eleven)).rejects.toThrow(RangeError);
    expect(fx.server.requests).toHaveLength(before);
  });

  it('reuses one SAS token and one keep-alive connection; close() ends the connection', async () => {
    const own = fx.newClient();
    const ok = { status: 200, body: stored };
    const a = await fx.exchange(ok, () => own.getEnrollment(ID));
    const b = await fx.exchange(ok, () => own.getEnrollment(ID));
    expect(b.request.headers.authorization).toBe(a.request.headers.authorization);
    expect(b.request.remotePort).toBe(a.request.remotePort);

    const socket = fx.server.connections().find((s) => s.remotePort === a.request.remotePort);
    expect(socket).toBeDefined();
    const closed = once(socket!, 'close');
    own.close();
    await closed;
  });

  it('sends SNI for a DNS host name with a port, and signs the host without it', async () => {
    const port = fx.server.port;
    const own = fx.newClient({
      connectionString: {
        hostName: `localhost:${port}`,
        sharedAccessKeyName: fx.policyName,
        sharedAccessKey: fx.key,
      },
      apiVersion: '2026-04-01',
    });
    const { request } = await fx.exchange({ status: 200, body: stored }, () =>
      own.getEnrollment(ID),
    );
    expect(request.servername).toBe('localhost');
    expect(request.query.get('api-version')).toBe('2026-04-01');
    expect(
      serviceSasProblem(request.headers.authorization, `localhost:${port}`, fx.policyName, fx.key),
    ).toBeUndefined();

    const viaIp = await fx.exchange({ status: 200, body: stored }, () => client.getEnrollment(ID));
    expect(viaIp.request.servername).toBe(false);
  });

  it('refuses a bad connection string at construction, without echoing the key', () => {
    const text = fx.connectionString.replace('SharedAccessKeyName=', 'Policy=');
    let error: unknown;
    try {
      new DpsServiceClient({ connectionString: text });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DpsError);
    expect(error).toMatchObject({ code: 'DPS_CONNECTION_STRING_INVALID' });
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain(fx.key);
  });
});
