import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { sampleEndorsementKey, sha256Thumbprint } from './compatCredentials.js';
import {
  COMPAT_SERVICE_NAME,
  expectDpsRefusal,
  startCompatSession,
  type CompatSession,
} from './compatSession.js';
import { serviceClientFor } from './sdkAgent.js';
import { queryPages, rejectionOf, runBulk } from './sdkCalls.js';
import type { IndividualEnrollment } from './sdkTypes.js';

/**
 * azure-iot-provisioning-service@1.11.2, unmodified, against the emulator: individual
 * enrollments, bulk operations, queries and the error mapping. Groups and registration states are
 * in enrollmentGroups.compat.test.ts.
 */

let session: CompatSession;
beforeAll(async () => {
  session = await startCompatSession();
});
afterAll(async () => {
  await session?.close();
});

/** A symmetric-key enrollment; DPS generates the keys when none are given. */
function symmetricEnrollment(registrationId: string): IndividualEnrollment {
  return { registrationId, attestation: { type: 'symmetricKey', symmetricKey: {} } };
}

const stripColons = (s: string | undefined): string => (s ?? '').replace(/:/g, '').toUpperCase();

describe('individual enrollments through the official service SDK', () => {
  it('creates, reads, updates with the etag and deletes an X.509 enrollment', async () => {
    const { service, pki } = session;
    const id = 'compat-svc-x509-1';
    const device = pki.selfSignedDevice(id);
    const created = (
      await service.createOrUpdateIndividualEnrollment({
        registrationId: id,
        deviceId: 'compat-svc-device-1',
        attestation: {
          type: 'x509',
          x509: { clientCertificates: { primary: { certificate: device.leafPem } } },
        },
        initialTwin: { tags: { line: 'compat' }, properties: { desired: { interval: 30 } } },
      })
    ).responseBody;
    expect(created).toMatchObject({
      registrationId: id,
      deviceId: 'compat-svc-device-1',
      provisioningStatus: 'enabled',
      attestation: { type: 'x509' },
      initialTwin: { tags: { line: 'compat' }, properties: { desired: { interval: 30 } } },
    });
    expect(created.etag).toMatch(/\S/);
    expect(Date.parse(created.createdDateTimeUtc ?? '')).not.toBeNaN();
    const info = created.attestation.x509?.clientCertificates?.primary?.info;
    expect(info?.subjectName).toContain(`CN=${id}`);
    expect(stripColons(info?.sha256Thumbprint)).toBe(sha256Thumbprint(device.leafPem));

    const fetched = (await service.getIndividualEnrollment(id)).responseBody;
    expect(fetched).toMatchObject({ registrationId: id, etag: created.etag });

    // The SDK's own update path: send the fetched object back; its etag becomes If-Match.
    const updated = (
      await service.createOrUpdateIndividualEnrollment({
        ...fetched,
        provisioningStatus: 'disabled',
      })
    ).responseBody;
    expect(updated).toMatchObject({ registrationId: id, provisioningStatus: 'disabled' });
    expect(updated.etag).not.toBe(created.etag);
    expect(updated.createdDateTimeUtc).toBe(created.createdDateTimeUtc);

    const stale = await rejectionOf(service.createOrUpdateIndividualEnrollment(fetched));
    expectDpsRefusal(stale, 412, 'InvalidEtagError');
    const duplicate = await rejectionOf(
      service.createOrUpdateIndividualEnrollment({ ...fetched, etag: undefined }),
    );
    expectDpsRefusal(duplicate, 409, 'DeviceAlreadyExistsError');
    expect((await service.getIndividualEnrollment(id)).responseBody.etag).toBe(updated.etag);

    expectDpsRefusal(
      await rejectionOf(service.deleteIndividualEnrollment(id, created.etag)),
      412,
      'InvalidEtagError',
    );
    await service.deleteIndividualEnrollment(updated);
    const gone = await rejectionOf(service.getIndividualEnrollment(id));
    expectDpsRefusal(gone, 404, 'Error');
    expect(gone.message).toBe('Not found');
    expectDpsRefusal(await rejectionOf(service.deleteIndividualEnrollment(id)), 404, 'Error');
  });

  it('generates 64-byte symmetric keys and hands them out through the attestation mechanism', async () => {
    const { service } = session;
    const created = (
      await service.createOrUpdateIndividualEnrollment(symmetricEnrollment('compat-svc-sym-1'))
    ).responseBody;
    expect(created.attestation.type).toBe('symmetricKey');
    const generated = (
      await service.getIndividualEnrollmentAttestationMechanism('compat-svc-sym-1')
    ).responseBody;
    expect(generated.type).toBe('symmetricKey');
    const { primaryKey = '', secondaryKey = '' } = generated.symmetricKey ?? {};
    expect(Buffer.from(primaryKey, 'base64')).toHaveLength(64);
    expect(Buffer.from(secondaryKey, 'base64')).toHaveLength(64);
    expect(primaryKey).not.toBe(secondaryKey);

    const keys = {
      primaryKey: randomBytes(32).toString('base64'),
      secondaryKey: randomBytes(32).toString('base64'),
    };
    await service.createOrUpdateIndividualEnrollment({
      registrationId: 'compat-svc-sym-2',
      attestation: { type: 'symmetricKey', symmetricKey: keys },
    });
    const given = (await service.getIndividualEnrollmentAttestationMechanism('compat-svc-sym-2'))
      .responseBody;
    expect(given).toMatchObject({ type: 'symmetricKey', symmetricKey: keys });
    expectDpsRefusal(
      await rejectionOf(service.getIndividualEnrollmentAttestationMechanism('compat-svc-none')),
      404,
      'Error',
    );
  });

  it('keeps a TPM enrollment with its endorsement key', async () => {
    const { service } = session;
    const endorsementKey = sampleEndorsementKey();
    const created = (
      await service.createOrUpdateIndividualEnrollment({
        registrationId: 'compat-svc-tpm-1',
        attestation: { type: 'tpm', tpm: { endorsementKey } },
      })
    ).responseBody;
    expect(created).toMatchObject({ registrationId: 'compat-svc-tpm-1' });
    expect(created.attestation.type).toBe('tpm');
    const mechanism = (
      await service.getIndividualEnrollmentAttestationMechanism('compat-svc-tpm-1')
    ).responseBody;
    expect(mechanism).toMatchObject({ type: 'tpm', tpm: { endorsementKey } });
  });

  it('pages through every enrollment with x-ms-continuation and the item type', async () => {
    const { service, emulator } = session;
    const ids = Array.from({ length: 7 }, (_, i) => `compat-svc-page-${i}`);
    const created = await runBulk(service, {
      mode: 'create',
      enrollments: ids.map(symmetricEnrollment),
    });
    expect(created.responseBody).toMatchObject({ isSuccessful: true });

    const pages = await queryPages(
      service.createIndividualEnrollmentQuery({ query: 'SELECT * FROM enrollments' }, 3),
    );
    const seen = pages.flatMap((p) => p.responseBody.map((e) => e.registrationId));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const [i, page] of pages.entries()) {
      const headers = page.httpResponse.headers;
      expect(page.responseBody.length).toBeLessThanOrEqual(3);
      expect(page.responseBody.length).toBeGreaterThan(0);
      expect(String(headers['x-ms-item-type'])).toMatch(/^enrollment$/i);
      // Present exactly when another page follows: Node stops on its absence.
      expect(headers['x-ms-continuation'] !== undefined).toBe(i < pages.length - 1);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(seen).toHaveLength(emulator.stats().enrollments);
  });
});

describe('bulk enrollment operations through the official service SDK (callback form)', () => {
  it('applies each item on its own and lists the items that failed, with HTTP 200', async () => {
    const { service } = session;
    await service.createOrUpdateIndividualEnrollment(symmetricEnrollment('compat-svc-bulk-old'));
    const fresh = ['compat-svc-bulk-1', 'compat-svc-bulk-2'];
    const create = await runBulk(service, {
      mode: 'create',
      enrollments: [...fresh, 'compat-svc-bulk-old'].map(symmetricEnrollment),
    });
    expect(create.httpResponse.statusCode).toBe(200);
    expect(create.responseBody.isSuccessful).toBe(false);
    expect(create.responseBody.errors).toHaveLength(1);
    expect(create.responseBody.errors?.[0]).toMatchObject({
      registrationId: 'compat-svc-bulk-old',
    });
    expect(Math.floor((create.responseBody.errors?.[0]?.errorCode ?? 0) / 1000)).toBe(409);
    for (const id of fresh) {
      expect((await service.getIndividualEnrollment(id)).responseBody.registrationId).toBe(id);
    }

    const current = (await service.getIndividualEnrollment('compat-svc-bulk-1')).responseBody;
    const update = await runBulk(service, {
      mode: 'updateIfMatchEtag',
      enrollments: [
        { ...current, etag: 'IjAwMDAwMDAwLWNvbXBhdCI=', provisioningStatus: 'disabled' },
      ],
    });
    expect(update.responseBody.isSuccessful).toBe(false);
    expect(update.responseBody.errors?.[0]).toMatchObject({ registrationId: 'compat-svc-bulk-1' });
    expect(Math.floor((update.responseBody.errors?.[0]?.errorCode ?? 0) / 1000)).toBe(412);
    expect((await service.getIndividualEnrollment('compat-svc-bulk-1')).responseBody.etag).toBe(
      current.etag,
    );

    const remove = await runBulk(service, {
      mode: 'delete',
      enrollments: [...fresh, 'compat-svc-bulk-missing'].map(symmetricEnrollment),
    });
    expect(remove.responseBody.isSuccessful).toBe(false);
    expect(remove.responseBody.errors).toHaveLength(1);
    expect(remove.responseBody.errors?.[0]).toMatchObject({
      registrationId: 'compat-svc-bulk-missing',
    });
    expect(Math.floor((remove.responseBody.errors?.[0]?.errorCode ?? 0) / 1000)).toBe(404);
    for (const id of fresh) {
      expectDpsRefusal(await rejectionOf(service.getIndividualEnrollment(id)), 404, 'Error');
    }
  });

  // The REST spec caps a bulk call at 10 enrollments; the answer beyond is not documented, 400 is
  // what an invalid body gets (dps-protocol.md §1.5).
  it('refuses more than 10 items with 400 and applies none of them', async () => {
    const { service } = session;
    const ids = Array.from({ length: 11 }, (_, i) => `compat-svc-bulk-big-${i}`);
    const err = await rejectionOf(
      runBulk(service, { mode: 'create', enrollments: ids.map(symmetricEnrollment) }),
    );
    expectDpsRefusal(err, 400, 'ArgumentError');
    expectDpsRefusal(await rejectionOf(service.getIndividualEnrollment(ids[0]!)), 404, 'Error');
  });
});

describe('service authentication', () => {
  it('refuses a client whose connection string carries another key (401)', async () => {
    const { emulator, agent, service } = session;
    const intruder = serviceClientFor(
      emulator,
      agent,
      COMPAT_SERVICE_NAME,
      randomBytes(32).toString('base64'),
    );
    await service.createOrUpdateIndividualEnrollment(symmetricEnrollment('compat-svc-auth-1'));
    const err = await rejectionOf(intruder.getIndividualEnrollment('compat-svc-auth-1'));
    expectDpsRefusal(err, 401, 'UnauthorizedError');
    const { sharedAccessKey } = parseConnectionString(emulator.serviceConnectionString);
    expect(err.responseBody ?? '').not.toContain(sharedAccessKey);
  });
});
