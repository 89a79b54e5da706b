import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedDeviceKey } from './compatCredentials.js';
import {
  COMPAT_HUBS,
  expectDpsRefusal,
  startCompatSession,
  type CompatSession,
} from './compatSession.js';
import { symmetricKeyDeviceClient, x509DeviceClient, type RegistrationClient } from './sdkAgent.js';
import { rejectionOf, type SdkError } from './sdkCalls.js';
import type { DeviceRegistrationState } from './sdkTypes.js';

/**
 * azure-iot-provisioning-device@1.9.1 with the HTTP transport and the X.509 and symmetric-key
 * security clients, unmodified, registering against the emulator. Enrollments are made with the
 * official service SDK; the result of each registration is read back through it.
 */

let session: CompatSession;
beforeAll(async () => {
  session = await startCompatSession((pki) => {
    // Root A signs an intermediate that an enrollment group names; root B is named directly.
    pki.rootCa('compat-root-a');
    pki.intermediateCa('compat-inter-a', 'compat-root-a');
    pki.rootCa('compat-root-b');
    return { verifiedCas: [pki.pem('compat-root-a'), pki.pem('compat-root-b')] };
  });
  const { service, pki } = session;
  await service.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: 'compat-dev-group-inter',
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: pki.pem('compat-inter-a') } } },
    },
  });
  await service.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: 'compat-dev-group-root',
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: pki.pem('compat-root-b') } } },
    },
  });
});
afterAll(async () => {
  await session?.close();
});

/**
 * Registers, checks the final `registrationState` (dps-protocol.md §2.1; `extra` for fields such
 * as the group that matched), then checks it against DPS's own record of the registration.
 */
async function registersAs(
  client: RegistrationClient,
  registrationId: string,
  deviceId: string,
  extra: Partial<DeviceRegistrationState> = {},
): Promise<DeviceRegistrationState> {
  const state = await client.register();
  expect(state).toMatchObject({
    registrationId,
    deviceId,
    status: 'assigned',
    substatus: 'initialAssignment',
    ...extra,
  });
  expect(COMPAT_HUBS).toContain(state.assignedHub);
  expect(Date.parse(state.createdDateTimeUtc ?? '')).not.toBeNaN();
  expect(state.etag).toMatch(/\S/);
  const recorded = (await session.service.getDeviceRegistrationState(registrationId)).responseBody;
  expect(recorded).toMatchObject({
    registrationId,
    deviceId,
    status: 'assigned',
    assignedHub: state.assignedHub,
  });
  return state;
}

/** A refused registration: the SDK fails with 401 and DPS records nothing for the device. */
async function isRefused(client: RegistrationClient, registrationId: string): Promise<SdkError> {
  const err = await rejectionOf(client.register());
  expectDpsRefusal(err, 401, 'UnauthorizedError');
  expectDpsRefusal(
    await rejectionOf(session.service.getDeviceRegistrationState(registrationId)),
    404,
    'Error',
  );
  return err;
}

describe('X.509 devices through the official device SDK (HTTP)', () => {
  it('registers a device of an individual enrollment under the enrollment deviceId', async () => {
    const { emulator, agent, service, pki } = session;
    const device = pki.selfSignedDevice('compat-dev-x509-solo');
    await service.createOrUpdateIndividualEnrollment({
      registrationId: 'compat-dev-x509-solo',
      deviceId: 'compat-dev-solo-device',
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: device.leafPem } } },
      },
    });
    const client = x509DeviceClient(emulator, agent, 'compat-dev-x509-solo', device);
    await registersAs(client, 'compat-dev-x509-solo', 'compat-dev-solo-device');
  });

  it('registers group members whose chain reaches the group intermediate or root', async () => {
    const { emulator, agent, pki } = session;
    const underIntermediate = pki.issuedDevice('compat-dev-x509-m1', 'compat-inter-a', [
      'compat-inter-a',
      'compat-root-a',
    ]);
    const underRoot = pki.issuedDevice('compat-dev-x509-m2', 'compat-root-b', ['compat-root-b']);
    await Promise.all([
      registersAs(
        x509DeviceClient(emulator, agent, 'compat-dev-x509-m1', underIntermediate),
        'compat-dev-x509-m1',
        'compat-dev-x509-m1',
        { x509: { enrollmentGroupId: 'compat-dev-group-inter' } },
      ),
      registersAs(
        x509DeviceClient(emulator, agent, 'compat-dev-x509-m2', underRoot),
        'compat-dev-x509-m2',
        'compat-dev-x509-m2',
        { x509: { enrollmentGroupId: 'compat-dev-group-root' } },
      ),
    ]);
  });

  it('refuses a certificate whose CN is not the registration ID', async () => {
    const { emulator, agent, pki } = session;
    // A valid member of the group, claiming another device's registration ID.
    const imposter = pki.issuedDevice('compat-dev-x509-imposter', 'compat-inter-a', [
      'compat-inter-a',
      'compat-root-a',
    ]);
    await isRefused(
      x509DeviceClient(emulator, agent, 'compat-dev-x509-victim', imposter),
      'compat-dev-x509-victim',
    );
  });

  it('refuses a certificate that no enrollment or group knows', async () => {
    const { emulator, agent, pki } = session;
    const stranger = pki.selfSignedDevice('compat-dev-x509-stranger');
    await isRefused(
      x509DeviceClient(emulator, agent, 'compat-dev-x509-stranger', stranger),
      'compat-dev-x509-stranger',
    );
  });
});

describe('symmetric-key devices through the official device SDK (HTTP)', () => {
  it('registers an individual enrollment, and honours a static allocation', async () => {
    const { emulator, agent, service } = session;
    const soloKey = randomBytes(32).toString('base64');
    await service.createOrUpdateIndividualEnrollment({
      registrationId: 'compat-dev-sym-solo',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: soloKey, secondaryKey: soloKey },
      },
    });
    const staticKey = randomBytes(32).toString('base64');
    await service.createOrUpdateIndividualEnrollment({
      registrationId: 'compat-dev-sym-static',
      allocationPolicy: 'static',
      iotHubs: [COMPAT_HUBS[1]!],
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: staticKey, secondaryKey: randomBytes(32).toString('base64') },
      },
    });
    const [, placed] = await Promise.all([
      registersAs(
        symmetricKeyDeviceClient(emulator, agent, 'compat-dev-sym-solo', soloKey),
        'compat-dev-sym-solo',
        'compat-dev-sym-solo',
      ),
      registersAs(
        symmetricKeyDeviceClient(emulator, agent, 'compat-dev-sym-static', staticKey),
        'compat-dev-sym-static',
        'compat-dev-sym-static',
      ),
    ]);
    expect(placed.assignedHub).toBe(COMPAT_HUBS[1]);
  });

  it('registers group members with keys derived from the primary and the secondary group key', async () => {
    const { emulator, agent, service } = session;
    const primaryKey = randomBytes(64).toString('base64');
    const secondaryKey = randomBytes(64).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'compat-dev-sym-group',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey, secondaryKey } },
    });
    const members: [string, string][] = [
      ['compat-dev-sym-m1', primaryKey],
      ['compat-dev-sym-m2', secondaryKey],
    ];
    await Promise.all(
      members.map(([id, groupKey]) =>
        registersAs(
          symmetricKeyDeviceClient(emulator, agent, id, derivedDeviceKey(groupKey, id)),
          id,
          id,
          { symmetricKey: { enrollmentGroupId: 'compat-dev-sym-group' } },
        ),
      ),
    );
  });

  it('refuses a wrong key, a key derived for another device, and a disabled enrollment', async () => {
    const { emulator, agent, service } = session;
    const key = randomBytes(32).toString('base64');
    await service.createOrUpdateIndividualEnrollment({
      registrationId: 'compat-dev-sym-guarded',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: key } },
    });
    const groupKey = randomBytes(64).toString('base64');
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'compat-dev-sym-guarded-group',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: groupKey, secondaryKey: randomBytes(64).toString('base64') },
      },
    });
    await isRefused(
      symmetricKeyDeviceClient(
        emulator,
        agent,
        'compat-dev-sym-guarded',
        randomBytes(32).toString('base64'),
      ),
      'compat-dev-sym-guarded',
    );
    await isRefused(
      symmetricKeyDeviceClient(
        emulator,
        agent,
        'compat-dev-sym-borrower',
        derivedDeviceKey(groupKey, 'compat-dev-sym-lender'),
      ),
      'compat-dev-sym-borrower',
    );

    const disabledKey = randomBytes(32).toString('base64');
    await service.createOrUpdateIndividualEnrollment({
      registrationId: 'compat-dev-sym-disabled',
      provisioningStatus: 'disabled',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: disabledKey, secondaryKey: disabledKey },
      },
    });
    // DPS (and the emulator) attests the device and ends its registration "disabled", which the
    // SDK does not resolve; the device must not be assigned to a hub.
    const err = await rejectionOf(
      symmetricKeyDeviceClient(emulator, agent, 'compat-dev-sym-disabled', disabledKey).register(),
    );
    expect(err).toBeInstanceOf(Error);
    const recorded = await service.getDeviceRegistrationState('compat-dev-sym-disabled').then(
      (r) => r.responseBody.status,
      (e: SdkError) => e.response?.statusCode,
    );
    expect(recorded).toBe('disabled');
  });
});
