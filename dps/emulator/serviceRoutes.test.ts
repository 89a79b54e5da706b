import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { createCertificateAuthority, issueCertificate } from './emulatorTls.js';
import { call } from './emulatorTestKit.js';

let emulator: DpsEmulator;
let leafPem: string;
let caPem: string;

beforeAll(async () => {
  emulator = await startDpsEmulator({ rateLimit: false });
  const ca = await createCertificateAuthority('Routes Test CA');
  caPem = ca.certPem;
  leafPem = (await issueCertificate(ca, { commonName: 'dev-x509' })).certPem;
});
afterAll(() => emulator.close());

const symmetric = (registrationId: string, extra: Record<string, unknown> = {}) => ({
  registrationId,
  attestation: { type: 'symmetricKey' },
  ...extra,
});

type Record_ = Record<string, unknown>;

describe('individual enrollments', () => {
  it('creates, reads, shows the attestation and deletes', async () => {
    const put = await call(emulator, 'PUT', '/enrollments/dev-a', { body: symmetric('dev-a') });
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe('application/json; charset=utf-8');
    const created = put.body as Record_;
    expect(created).toMatchObject({
      registrationId: 'dev-a',
      provisioningStatus: 'enabled',
      allocationPolicy: 'hashed',
      capabilities: { iotEdge: false },
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    });
    expect(Buffer.from(created.etag as string, 'base64').toString()).toMatch(/^".+"$/);
    expect(Date.parse(created.createdDateTimeUtc as string)).not.toBeNaN();
    const keys = (created.attestation as { symmetricKey: Record<string, string> }).symmetricKey;
    expect(Buffer.from(keys.primaryKey!, 'base64')).toHaveLength(64);
    expect(keys.primaryKey).toHaveLength(88);
    expect(keys.secondaryKey).not.toBe(keys.primaryKey);

    // As real DPS: a read withholds the keys; the attestation mechanism read returns them.
    const get = await call(emulator, 'GET', '/enrollments/DEV-A');
    expect(get.status).toBe(200);
    const withheld = { ...created, attestation: { type: 'symmetricKey', symmetricKey: {} } };
    expect(get.body).toEqual(withheld);
    const listed = await call(emulator, 'POST', '/enrollments/query', {
      body: { query: 'SELECT * FROM enrollments' },
    });
    expect(listed.body).toContainEqual(withheld);

    const mechanism = await call(emulator, 'POST', '/enrollments/dev-a/attestationmechanism');
    expect(mechanism.status).toBe(200);
    expect(mechanism.body).toEqual(created.attestation);

    const del = await call(emulator, 'DELETE', '/enrollments/dev-a');
    expect(del.status).toBe(204);
    expect(del.body).toBe('');
    expect((await call(emulator, 'GET', '/enrollments/dev-a')).status).toBe(404);
  });

  it('answers 404 with DPS error 404201 for a missing enrollment', async () => {
    const reply = await call(emulator, 'DELETE', '/enrollments/never-made');
    expect(reply.status).toBe(404);
    expect(reply.headers['x-ms-error-code']).toBe('404201');
    expect(reply.body).toMatchObject({ errorCode: 404201 });
  });

  it('keeps given keys and fills info for an X.509 client certificate (PEM or base64 DER)', async () => {
    const der = leafPem.replace(/-----[^-]+-----|\s/g, '');
    for (const certificate of [leafPem, der]) {
      const reply = await call(emulator, 'PUT', '/enrollments/dev-x509', {
        headers: { 'if-match': '*' },
        body: {
          registrationId: 'dev-x509',
          attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate } } } },
        },
      });
      expect(reply.status).toBe(200);
      const info = (
        reply.body as {
          attestation: { x509: { clientCertificates: { primary: { info: Record_ } } } };
        }
      ).attestation.x509.clientCertificates.primary.info;
      expect(info).toMatchObject({
        subjectName: 'CN=dev-x509',
        issuerName: 'CN=Routes Test CA',
        version: 3,
      });
      expect(info.sha256Thumbprint).toMatch(/^[0-9A-F]{64}$/);
      expect(info.sha1Thumbprint).toMatch(/^[0-9A-F]{40}$/);
    }
  });

  it('matches routes case-insensitively, ignores a trailing slash and encodes ids', async () => {
    const put = await call(emulator, 'PUT', '/Enrollments/dev%3Ab.1/', {
      body: symmetric('dev:b.1'),
    });
    expect(put.status).toBe(200);
    expect((await call(emulator, 'GET', '/ENROLLMENTS/DEV%3AB.1')).status).toBe(200);
  });

  it.each([
    ['a body id differing from the URL', '/enrollments/dev-c', symmetric('dev-d')],
    ['an invalid registration id', '/enrollments/-bad', symmetric('-bad')],
    ['no attestation', '/enrollments/dev-c', { registrationId: 'dev-c' }],
    [
      'attestation type none',
      '/enrollments/dev-c',
      { registrationId: 'dev-c', attestation: { type: 'none' } },
    ],
    [
      'a certificate that does not parse',
      '/enrollments/dev-c',
      {
        registrationId: 'dev-c',
        attestation: {
          type: 'x509',
          x509: { clientCertificates: { primary: { certificate: 'bm90IGEgY2VydA==' } } },
        },
      },
    ],
    [
      'a short symmetric key',
      '/enrollments/dev-c',
      symmetric('dev-c', {
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: 'AAAA' } },
      }),
    ],
    [
      'a hub that is not linked',
      '/enrollments/dev-c',
      symmetric('dev-c', { iotHubs: ['elsewhere.azure-devices.net'] }),
    ],
    [
      'static allocation over two hubs',
      '/enrollments/dev-c',
      symmetric('dev-c', { allocationPolicy: 'static' }),
    ],
    [
      'custom allocation without a webhook',
      '/enrollments/dev-c',
      symmetric('dev-c', { allocationPolicy: 'custom' }),
    ],
    [
      'an unknown allocation policy',
      '/enrollments/dev-c',
      symmetric('dev-c', { allocationPolicy: 'random' }),
    ],
    ['a body that is not JSON', '/enrollments/dev-c', '{"registrationId":'],
  ])('refuses %s with 400', async (_name, path, body) => {
    const reply = await call(emulator, 'PUT', path, { body });
    expect(reply.status).toBe(400);
    expect(String((reply.body as Record_).errorCode)).toMatch(/^400\d{3}$/);
  });

  it('refuses a missing api-version with 400, an unknown path with 404, a wrong method with 405', async () => {
    const missing = await call(emulator, 'GET', '/enrollments/dev-a', { apiVersion: false });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ errorCode: 400003 });
    expect(
      (await call(emulator, 'GET', '/enrollments/dev-a', { apiVersion: '2019-03-31' })).status,
    ).toBe(404);
    expect((await call(emulator, 'GET', '/certificates/x')).status).toBe(404);
    const wrong = await call(emulator, 'PATCH', '/enrollments/dev-a');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toContain('PUT');
  });
});

describe('ETag rules (dps-protocol.md §1.8)', () => {
  it('creates without If-Match, then 409 / * / equal / quoted / mismatch 412', async () => {
    const first = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      body: symmetric('etag-dev'),
    });
    expect(first.status).toBe(200);
    const etag = (first.body as Record_).etag as string;

    const again = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      body: symmetric('etag-dev'),
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ errorCode: 409201 });

    const star = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      headers: { 'if-match': '*' },
      body: symmetric('etag-dev', { deviceId: 'device-1' }),
    });
    expect(star.status).toBe(200);
    const starEtag = (star.body as Record_).etag as string;
    expect(starEtag).not.toBe(etag);
    expect((star.body as Record_).createdDateTimeUtc).toBe(
      (first.body as Record_).createdDateTimeUtc,
    );

    const stale = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      headers: { 'if-match': etag },
      body: symmetric('etag-dev'),
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ errorCode: 412201 });

    const unquoted = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      headers: { 'if-match': starEtag },
      body: symmetric('etag-dev'),
    });
    expect(unquoted.status).toBe(200);
    const quoted = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      headers: { 'if-match': `"${(unquoted.body as Record_).etag as string}"` },
      body: symmetric('etag-dev'),
    });
    expect(quoted.status).toBe(200);

    const staleDelete = await call(emulator, 'DELETE', '/enrollments/etag-dev', {
      headers: { 'if-match': etag },
    });
    expect(staleDelete.status).toBe(412);
    const del = await call(emulator, 'DELETE', '/enrollments/etag-dev', {
      headers: { 'if-match': (quoted.body as Record_).etag as string },
    });
    expect(del.status).toBe(204);
    const gone = await call(emulator, 'PUT', '/enrollments/etag-dev', {
      headers: { 'if-match': etag },
      body: symmetric('etag-dev'),
    });
    expect(gone.status).toBe(412);
  });
});

describe('enrollment groups', () => {
  it('creates, reads (lower-case route too), shows the attestation and deletes', async () => {
    const body = {
      enrollmentGroupId: 'group-x509',
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: caPem } } },
      },
    };
    const put = await call(emulator, 'PUT', '/enrollmentGroups/group-x509', { body });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      enrollmentGroupId: 'group-x509',
      provisioningStatus: 'enabled',
    });
    expect((await call(emulator, 'PUT', '/enrollmentGroups/group-x509', { body })).status).toBe(
      409,
    );
    const get = await call(emulator, 'GET', '/enrollmentgroups/GROUP-X509');
    expect(get.body).toEqual(put.body);
    const mechanism = await call(
      emulator,
      'POST',
      '/enrollmentgroups/group-x509/attestationmechanism',
    );
    expect(mechanism.body).toMatchObject({ type: 'x509' });
    expect((await call(emulator, 'DELETE', '/enrollmentGroups/group-x509')).status).toBe(204);
    const missing = await call(emulator, 'GET', '/enrollmentGroups/group-x509');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errorCode: 404202 });
  });

  it("withholds a symmetric-key group's keys from GET and query, not from its attestation read", async () => {
    const keys = {
      primaryKey: Buffer.alloc(64, 1).toString('base64'),
      secondaryKey: Buffer.alloc(32, 2).toString('base64'),
    };
    const put = await call(emulator, 'PUT', '/enrollmentGroups/group-sym', {
      body: {
        enrollmentGroupId: 'group-sym',
        attestation: { type: 'symmetricKey', symmetricKey: keys },
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ attestation: { symmetricKey: keys } });
    const withheld = {
      ...(put.body as Record_),
      attestation: { type: 'symmetricKey', symmetricKey: {} },
    };
    expect((await call(emulator, 'GET', '/enrollmentGroups/group-sym')).body).toEqual(withheld);
    const listed = await call(emulator, 'POST', '/enrollmentGroups/query', {
      body: { query: 'SELECT * FROM enrollmentGroups' },
    });
    expect(listed.body).toContainEqual(withheld);
    const mechanism = await call(
      emulator,
      'POST',
      '/enrollmentGroups/group-sym/attestationmechanism',
    );
    expect(mechanism.body).toEqual({ type: 'symmetricKey', symmetricKey: keys });
    expect((await call(emulator, 'DELETE', '/enrollmentGroups/group-sym')).status).toBe(204);
  });

  it('refuses client certificates and TPM on a group', async () => {
    const clientCerts = await call(emulator, 'PUT', '/enrollmentGroups/g-bad', {
      body: {
        enrollmentGroupId: 'g-bad',
        attestation: {
          type: 'x509',
          x509: { clientCertificates: { primary: { certificate: leafPem } } },
        },
      },
    });
    expect(clientCerts.status).toBe(400);
    const tpm = await call(emulator, 'PUT', '/enrollmentGroups/g-bad', {
      body: {
        enrollmentGroupId: 'g-bad',
        attestation: { type: 'tpm', tpm: { endorsementKey: 'AAAA' } },
      },
    });
    expect(tpm.status).toBe(400);
  });
});

describe('registration states', () => {
  it('answers 404 (404203) for a device that never registered, for GET and DELETE', async () => {
    const get = await call(emulator, 'GET', '/registrations/nobody');
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({ errorCode: 404203 });
    expect((await call(emulator, 'DELETE', '/registrations/nobody')).status).toBe(404);
  });
});
