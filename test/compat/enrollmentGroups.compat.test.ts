import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedDeviceKey, sha256Thumbprint } from './compatCredentials.js';
import {
  COMPAT_HUBS,
  expectDpsRefusal,
  startCompatSession,
  type CompatSession,
} from './compatSession.js';
import { symmetricKeyDeviceClient } from './sdkAgent.js';
import { queryPages, rejectionOf } from './sdkCalls.js';

/**
 * azure-iot-provisioning-service@1.11.2, unmodified, against the emulator: enrollment groups and
 * device registration states (the states are made by real registrations through the device SDK).
 */

let session: CompatSession;
beforeAll(async () => {
  session = await startCompatSession();
});
afterAll(async () => {
  await session?.close();
});

const stripColons = (s: string | undefined): string => (s ?? '').replace(/:/g, '').toUpperCase();

describe('enrollment groups through the official service SDK', () => {
  it('creates, reads, updates with the etag and deletes an X.509 group on a signing certificate', async () => {
    const { service, pki } = session;
    const id = 'compat-grp-x509';
    const root = pki.rootCa('compat-grp-root');
    const created = (
      await service.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: id,
        attestation: {
          type: 'x509',
          x509: { signingCertificates: { primary: { certificate: root } } },
        },
      })
    ).responseBody;
    expect(created).toMatchObject({ enrollmentGroupId: id, attestation: { type: 'x509' } });
    expect(created.etag).toMatch(/\S/);
    const info = created.attestation.x509?.signingCertificates?.primary?.info;
    expect(info?.subjectName).toContain('CN=compat-grp-root');
    expect(stripColons(info?.sha256Thumbprint)).toBe(sha256Thumbprint(root));

    const fetched = (await service.getEnrollmentGroup(id)).responseBody;
    expect(fetched).toMatchObject({ enrollmentGroupId: id, etag: created.etag });
    const updated = (
      await service.createOrUpdateEnrollmentGroup({
        ...fetched,
        initialTwin: { tags: { batch: 'b2' } },
      })
    ).responseBody;
    expect(updated).toMatchObject({
      enrollmentGroupId: id,
      initialTwin: { tags: { batch: 'b2' } },
    });
    expect(updated.etag).not.toBe(created.etag);

    expectDpsRefusal(
      await rejectionOf(service.createOrUpdateEnrollmentGroup(fetched)),
      412,
      'InvalidEtagError',
    );
    expectDpsRefusal(
      await rejectionOf(service.createOrUpdateEnrollmentGroup({ ...fetched, etag: undefined })),
      409,
      'DeviceAlreadyExistsError',
    );

    // The SDK asks for this one on a lower-case path: /enrollmentgroups/{id}/attestationmechanism.
    const mechanism = (await service.getEnrollmentGroupAttestationMechanism(id)).responseBody;
    expect(mechanism.type).toBe('x509');
    expect(mechanism.x509?.signingCertificates?.primary).toBeDefined();

    expectDpsRefusal(
      await rejectionOf(service.deleteEnrollmentGroup(id, created.etag)),
      412,
      'InvalidEtagError',
    );
    await service.deleteEnrollmentGroup(updated);
    expectDpsRefusal(await rejectionOf(service.getEnrollmentGroup(id)), 404, 'Error');
    expectDpsRefusal(await rejectionOf(service.deleteEnrollmentGroup(id)), 404, 'Error');
  });

  it('generates keys for a symmetric-key group and lists the groups page by page', async () => {
    const { service } = session;
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'compat-grp-sym-1',
      attestation: { type: 'symmetricKey', symmetricKey: {} },
    });
    const generated = (await service.getEnrollmentGroupAttestationMechanism('compat-grp-sym-1'))
      .responseBody;
    expect(generated.type).toBe('symmetricKey');
    expect(Buffer.from(generated.symmetricKey?.primaryKey ?? '', 'base64')).toHaveLength(64);
    expect(Buffer.from(generated.symmetricKey?.secondaryKey ?? '', 'base64')).toHaveLength(64);

    const keys = {
      primaryKey: randomBytes(64).toString('base64'),
      secondaryKey: randomBytes(64).toString('base64'),
    };
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'compat-grp-sym-2',
      attestation: { type: 'symmetricKey', symmetricKey: keys },
    });
    const given = (await service.getEnrollmentGroupAttestationMechanism('compat-grp-sym-2'))
      .responseBody;
    expect(given).toMatchObject({ type: 'symmetricKey', symmetricKey: keys });

    const pages = await queryPages(
      service.createEnrollmentGroupQuery({ query: 'SELECT * FROM enrollmentGroups' }, 1),
    );
    for (const page of pages) {
      expect(page.responseBody).toHaveLength(1);
      expect(String(page.httpResponse.headers['x-ms-item-type'])).toMatch(/^enrollmentGroup$/i);
    }
    expect(pages.flatMap((p) => p.responseBody.map((g) => g.enrollmentGroupId)).sort()).toEqual([
      'compat-grp-sym-1',
      'compat-grp-sym-2',
    ]);
  });
});

describe('device registration states through the official service SDK', () => {
  it('records each registration of a group, lists them per group and deletes one with its etag', async () => {
    const { service, emulator, agent } = session;
    const groupKey = randomBytes(64).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'compat-grp-states',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: groupKey, secondaryKey: randomBytes(64).toString('base64') },
      },
    });
    const members = ['compat-grp-member-1', 'compat-grp-member-2'];
    const assigned = await Promise.all(
      members.map((id) =>
        symmetricKeyDeviceClient(emulator, agent, id, derivedDeviceKey(groupKey, id)).register(),
      ),
    );

    const states = [];
    for (const [i, id] of members.entries()) {
      const state = (await service.getDeviceRegistrationState(id)).responseBody;
      expect(state).toMatchObject({
        registrationId: id,
        status: 'assigned',
        deviceId: id,
        assignedHub: assigned[i]?.assignedHub,
      });
      expect(COMPAT_HUBS).toContain(state.assignedHub);
      expect(state.etag).toMatch(/\S/);
      states.push(state);
    }

    const pages = await queryPages(
      service.createEnrollmentGroupDeviceRegistrationStateQuery(
        { query: '*' },
        'compat-grp-states',
        1,
      ),
    );
    for (const page of pages) {
      expect(String(page.httpResponse.headers['x-ms-item-type'])).toMatch(/^deviceRegistration$/i);
    }
    expect(pages.flatMap((p) => p.responseBody.map((s) => s.registrationId)).sort()).toEqual(
      members,
    );

    expectDpsRefusal(
      await rejectionOf(service.deleteDeviceRegistrationState(members[0]!, 'IjAwMDAtc3RhbGUi')),
      412,
      'InvalidEtagError',
    );
    await service.deleteDeviceRegistrationState(states[0]!);
    expectDpsRefusal(
      await rejectionOf(service.getDeviceRegistrationState(members[0]!)),
      404,
      'Error',
    );
    expectDpsRefusal(
      await rejectionOf(service.deleteDeviceRegistrationState(members[0]!)),
      404,
      'Error',
    );
    expect((await service.getDeviceRegistrationState(members[1]!)).responseBody.etag).toBe(
      states[1]?.etag,
    );
  });

  it('answers 404 for a group or registration state that does not exist', async () => {
    const { service } = session;
    expectDpsRefusal(
      await rejectionOf(service.getEnrollmentGroup('compat-grp-none')),
      404,
      'Error',
    );
    expectDpsRefusal(
      await rejectionOf(service.getEnrollmentGroupAttestationMechanism('compat-grp-none')),
      404,
      'Error',
    );
    expectDpsRefusal(
      await rejectionOf(service.getDeviceRegistrationState('compat-grp-nobody')),
      404,
      'Error',
    );
  });
});
