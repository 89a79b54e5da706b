import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSasToken, deriveDeviceKey } from '../auth/sas.js';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import {
  createCertificateAuthority,
  type IssuedCertificate,
  issueCertificate,
} from './emulatorTls.js';
import { call, deviceToken, registerDevice } from './emulatorTestKit.js';

let emulator: DpsEmulator;
let root: IssuedCertificate;
let intermediate: IssuedCertificate;
let verifiedRoot: IssuedCertificate;

const client = (leaf: IssuedCertificate, ...chain: IssuedCertificate[]) => ({
  clientCert: { certPem: [leaf, ...chain].map((c) => c.certPem).join(''), keyPem: leaf.keyPem },
});

beforeAll(async () => {
  root = await createCertificateAuthority('Factory Root CA');
  intermediate = await issueCertificate(root, { commonName: 'Factory Line CA', ca: true });
  verifiedRoot = await createCertificateAuthority('Verified Vendor CA');
  // The factory root is verified too: DPS wants every chain-matched device to reach one (§2.3).
  emulator = await startDpsEmulator({
    rateLimit: false,
    verifiedCas: [verifiedRoot.certPem, root.certPem],
  });
});
afterAll(() => emulator.close());

type Json = Record<string, unknown>;

async function putEnrollment(body: Json): Promise<Json> {
  const reply = await call(emulator, 'PUT', `/enrollments/${body.registrationId as string}`, {
    body,
    headers: { 'if-match': '*' },
  });
  expect(reply.status).toBe(200);
  return reply.body as Json;
}

async function putGroup(body: Json): Promise<Json> {
  const reply = await call(
    emulator,
    'PUT',
    `/enrollmentGroups/${body.enrollmentGroupId as string}`,
    {
      body,
      headers: { 'if-match': '*' },
    },
  );
  expect(reply.status).toBe(200);
  return reply.body as Json;
}

describe('X.509 registration', () => {
  it('assigns an individual enrollment matched by its leaf: 202 assigning, then 200 assigned', async () => {
    const leaf = await issueCertificate(root, { commonName: 'dev-x1' });
    await putEnrollment({
      registrationId: 'dev-x1',
      deviceId: 'line-1-device',
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: leaf.certPem } } },
      },
    });
    const result = await registerDevice(emulator, 'dev-x1', client(leaf));
    expect(result.register.status).toBe(202);
    expect(result.register.headers['retry-after']).toBe('1');
    expect(result.register.body).toEqual({ operationId: expect.any(String), status: 'assigning' });
    expect(result.final?.status).toBe(200);
    const final = result.final!.body as {
      operationId: string;
      status: string;
      registrationState: Json;
    };
    expect(final.operationId).toBe((result.register.body as Json).operationId);
    expect(final.status).toBe('assigned');
    expect(final.registrationState).toMatchObject({
      x509: {},
      registrationId: 'dev-x1',
      assignedHub: expect.stringMatching(/^demo-hub-[12]\.azure-devices\.net$/),
      deviceId: 'line-1-device',
      status: 'assigned',
      substatus: 'initialAssignment',
      etag: expect.any(String),
    });
    expect(final.registrationState).not.toHaveProperty('payload');
    const state = await call(emulator, 'GET', '/registrations/dev-x1');
    expect(state.body).toMatchObject({ registrationId: 'dev-x1', status: 'assigned' });
    const enrollment = await call(emulator, 'GET', '/enrollments/dev-x1');
    expect(enrollment.body).toMatchObject({ registrationState: { deviceId: 'line-1-device' } });
  });

  it('refuses a certificate whose CN is not the registration ID', async () => {
    const other = await issueCertificate(root, { commonName: 'dev-someone-else' });
    const result = await registerDevice(emulator, 'dev-x1', client(other));
    expect(result.register.status).toBe(401);
    expect(result.register.body).toMatchObject({ errorCode: 401002 });
  });

  it('refuses a certificate the enrollment does not hold, and one no enrollment knows', async () => {
    const impostor = await issueCertificate(root, { commonName: 'dev-x1' });
    expect((await registerDevice(emulator, 'dev-x1', client(impostor))).register.status).toBe(401);
    const stranger = await createCertificateAuthority('Stranger CA');
    const unknown = await issueCertificate(stranger, { commonName: 'dev-unknown' });
    const result = await registerDevice(emulator, 'dev-unknown', client(unknown, stranger));
    expect(result.register.status).toBe(401);
  });

  it('refuses a device with neither certificate nor token, and an expired certificate', async () => {
    const none = await call(emulator, 'PUT', `/${emulator.idScope}/registrations/dev-x1/register`, {
      auth: false,
      body: { registrationId: 'dev-x1' },
    });
    expect(none.status).toBe(401);
    const expired = await issueCertificate(root, {
      commonName: 'dev-x1',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    expect((await registerDevice(emulator, 'dev-x1', client(expired))).register.status).toBe(401);
  });

  it('assigns a group member by its chain up to the group signing certificate', async () => {
    await putGroup({
      enrollmentGroupId: 'factory-root',
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: root.certPem } } },
      },
    });
    const leaf = await issueCertificate(intermediate, { commonName: 'dev-chain-1' });
    const result = await registerDevice(emulator, 'dev-chain-1', client(leaf, intermediate));
    expect(result.final?.body).toMatchObject({
      status: 'assigned',
      registrationState: { x509: { enrollmentGroupId: 'factory-root' }, deviceId: 'dev-chain-1' },
    });
    const states = await call(emulator, 'POST', '/registrations/factory-root/query', {
      body: { query: '*' },
    });
    expect(states.body).toMatchObject([{ registrationId: 'dev-chain-1' }]);
    // Without the intermediate the chain does not reach the root: refused.
    const orphan = await issueCertificate(intermediate, { commonName: 'dev-chain-2' });
    expect((await registerDevice(emulator, 'dev-chain-2', client(orphan))).register.status).toBe(
      401,
    );
  });

  it('refuses a chain through an impostor CA that copies the group CA name', async () => {
    const impostorRoot = await createCertificateAuthority('Factory Root CA');
    const impostorLine = await issueCertificate(impostorRoot, {
      commonName: 'Factory Line CA',
      ca: true,
    });
    const leaf = await issueCertificate(impostorLine, { commonName: 'dev-forged' });
    const result = await registerDevice(
      emulator,
      'dev-forged',
      client(leaf, impostorLine, impostorRoot),
    );
    expect(result.register.status).toBe(401);
  });

  it('assigns through a verified CA named by caReferences; a disabled group ends it disabled', async () => {
    await putGroup({
      enrollmentGroupId: 'vendor',
      attestation: { type: 'x509', x509: { caReferences: { primary: 'Verified Vendor CA' } } },
    });
    const leaf = await issueCertificate(verifiedRoot, { commonName: 'dev-vendor-1' });
    const result = await registerDevice(emulator, 'dev-vendor-1', client(leaf));
    expect(result.final?.body).toMatchObject({
      registrationState: { x509: { enrollmentGroupId: 'vendor' } },
    });
    await putGroup({
      enrollmentGroupId: 'vendor',
      provisioningStatus: 'disabled',
      attestation: { type: 'x509', x509: { caReferences: { primary: 'Verified Vendor CA' } } },
    });
    // DPS attests the member, then ends its registration `disabled`, with no hub.
    const disabled = await registerDevice(emulator, 'dev-vendor-1', client(leaf));
    expect(disabled.register.status).toBe(202);
    expect(disabled.final?.status).toBe(200);
    expect(disabled.final?.body).toMatchObject({
      status: 'disabled',
      registrationState: {
        x509: { enrollmentGroupId: 'vendor' },
        registrationId: 'dev-vendor-1',
        status: 'disabled',
      },
    });
    expect(
      (disabled.final?.body as { registrationState: Json }).registrationState,
    ).not.toHaveProperty('assignedHub');
    // A certificate that does not chain to the group is still refused: 401.
    const impostor = await createCertificateAuthority('Verified Vendor CA');
    const stranger = await issueCertificate(impostor, { commonName: 'dev-vendor-1' });
    expect((await registerDevice(emulator, 'dev-vendor-1', client(stranger))).register.status).toBe(
      401,
    );
  });
});

describe('symmetric-key registration', () => {
  it('assigns an individual enrollment with its primary or secondary key, refuses others', async () => {
    const created = await putEnrollment({
      registrationId: 'dev-s1',
      attestation: { type: 'symmetricKey' },
    });
    const keys = (
      created.attestation as { symmetricKey: { primaryKey: string; secondaryKey: string } }
    ).symmetricKey;
    for (const key of [keys.primaryKey, keys.secondaryKey]) {
      const result = await registerDevice(emulator, 'dev-s1', { key });
      expect(result.final?.body).toMatchObject({
        status: 'assigned',
        registrationState: { symmetricKey: {}, deviceId: 'dev-s1', registrationId: 'dev-s1' },
      });
    }
    const wrong = await registerDevice(emulator, 'dev-s1', {
      key: deriveDeviceKey(keys.primaryKey, 'x'),
    });
    expect(wrong.register.status).toBe(401);
    expect(wrong.register.headers['x-ms-error-code']).toBe('401002');
  });

  it('assigns a group member with its derived key; the poll checks the token too', async () => {
    const group = await putGroup({
      enrollmentGroupId: 'sym-group',
      attestation: { type: 'symmetricKey' },
    });
    const groupKey = (group.attestation as { symmetricKey: { secondaryKey: string } }).symmetricKey
      .secondaryKey;
    const key = deriveDeviceKey(groupKey, 'dev-g1');
    const result = await registerDevice(emulator, 'dev-g1', { key });
    expect(result.final?.body).toMatchObject({
      registrationState: { symmetricKey: { enrollmentGroupId: 'sym-group' }, deviceId: 'dev-g1' },
    });
    const operationId = (result.register.body as { operationId: string }).operationId;
    const base = `/${emulator.idScope}/registrations/dev-g1`;
    const unsigned = await call(emulator, 'GET', `${base}/operations/${operationId}`, {
      auth: false,
    });
    expect(unsigned.status).toBe(401);
    const otherDevice = await call(
      emulator,
      'GET',
      `/${emulator.idScope}/registrations/dev-g2/operations/${operationId}`,
      { auth: deviceToken(emulator, 'dev-g2', deriveDeviceKey(groupKey, 'dev-g2')) },
    );
    expect(otherDevice.status).toBe(404);
    const status = await call(emulator, 'POST', base, {
      auth: deviceToken(emulator, 'dev-g1', key),
    });
    expect(status.body).toMatchObject({ registrationId: 'dev-g1', status: 'assigned' });
  });

  it('accepts an unencoded sr (Node) and refuses an unknown ID scope and an expired token', async () => {
    const group = await putGroup({
      enrollmentGroupId: 'sym-group-2',
      attestation: { type: 'symmetricKey' },
    });
    const key = deriveDeviceKey(
      (group.attestation as { symmetricKey: { primaryKey: string } }).symmetricKey.primaryKey,
      'dev-g3',
    );
    const token = (resource: string, expiresAt: number) =>
      createSasToken({ resource, keyBase64: key, policyName: 'registration', expiresAt });
    const later = Math.floor(Date.now() / 1000) + 600;
    const path = `/${emulator.idScope}/registrations/dev-g3/register`;
    const raw = await call(emulator, 'PUT', path, {
      auth: token(`${emulator.idScope}/registrations/dev-g3`, later),
      body: { registrationId: 'dev-g3' },
    });
    expect(raw.status).toBe(202);
    const wrongScope = await call(emulator, 'PUT', '/0ne99999999/registrations/dev-g3/register', {
      auth: token('0ne99999999/registrations/dev-g3', later),
      body: { registrationId: 'dev-g3' },
    });
    expect(wrongScope.status).toBe(401);
    const expired = await call(emulator, 'PUT', path, {
      auth: token(`${emulator.idScope}/registrations/dev-g3`, later - 1200),
      body: { registrationId: 'dev-g3' },
    });
    expect(expired.status).toBe(401);
    const mismatch = await call(emulator, 'PUT', path, {
      auth: token(`${emulator.idScope}/registrations/dev-g3`, later),
      body: { registrationId: 'dev-g4' },
    });
    expect(mismatch.status).toBe(400);
  });

  it('attests a device of a disabled individual enrollment and ends its registration disabled, as DPS does', async () => {
    const created = await putEnrollment({
      registrationId: 'dev-off',
      provisioningStatus: 'disabled',
      attestation: { type: 'symmetricKey' },
    });
    const key = (created.attestation as { symmetricKey: { primaryKey: string } }).symmetricKey
      .primaryKey;
    const result = await registerDevice(emulator, 'dev-off', { key });
    expect(result.register.status).toBe(202);
    expect(result.register.body).toMatchObject({ status: 'assigning' });
    expect(result.final?.status).toBe(200);
    expect(result.final?.body).toMatchObject({
      status: 'disabled',
      registrationState: { symmetricKey: {}, registrationId: 'dev-off', status: 'disabled' },
    });
    const state = (result.final?.body as { registrationState: Json }).registrationState;
    expect(state).not.toHaveProperty('assignedHub');
    expect(state).not.toHaveProperty('errorCode');
    // The registration state records it: the device's status look-up and the service API.
    const status = await call(emulator, 'POST', `/${emulator.idScope}/registrations/dev-off`, {
      auth: deviceToken(emulator, 'dev-off', key),
    });
    expect(status.body).toMatchObject({ registrationId: 'dev-off', status: 'disabled' });
    const service = await call(emulator, 'GET', '/registrations/dev-off');
    expect(service.status).toBe(200);
    expect(service.body).toMatchObject({ registrationId: 'dev-off', status: 'disabled' });
    expect(service.body).not.toHaveProperty('assignedHub');
    // A device that fails attestation is still refused with 401.
    const wrong = await registerDevice(emulator, 'dev-off', {
      key: deriveDeviceKey(key, 'other'),
    });
    expect(wrong.register.status).toBe(401);
    // Enabled again, the same device is assigned a hub.
    await putEnrollment({ ...created, provisioningStatus: 'enabled' });
    const again = await registerDevice(emulator, 'dev-off', { key });
    expect(again.final?.body).toMatchObject({
      status: 'assigned',
      registrationState: { assignedHub: expect.any(String), status: 'assigned' },
    });
  });

  it('ends a group member disabled, with no hub, when its symmetric-key group is disabled', async () => {
    const group = await putGroup({
      enrollmentGroupId: 'sym-off',
      provisioningStatus: 'disabled',
      attestation: { type: 'symmetricKey' },
    });
    const groupKey = (group.attestation as { symmetricKey: { primaryKey: string } }).symmetricKey
      .primaryKey;
    const result = await registerDevice(emulator, 'dev-off-g1', {
      key: deriveDeviceKey(groupKey, 'dev-off-g1'),
    });
    expect(result.register.status).toBe(202);
    expect(result.final?.body).toMatchObject({
      status: 'disabled',
      registrationState: {
        symmetricKey: { enrollmentGroupId: 'sym-off' },
        status: 'disabled',
      },
    });
    expect(
      (result.final?.body as { registrationState: Json }).registrationState,
    ).not.toHaveProperty('assignedHub');
  });
});
