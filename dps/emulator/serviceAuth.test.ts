import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../auth/connectionString.js';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { call, serviceToken } from './emulatorTestKit.js';

let emulator: DpsEmulator;
let key: string;
let hostName: string;

beforeAll(async () => {
  emulator = await startDpsEmulator({ rateLimit: false });
  const cs = parseConnectionString(emulator.serviceConnectionString);
  key = cs.sharedAccessKey;
  hostName = cs.hostName;
});
afterAll(() => emulator.close());

const now = (): number => Math.floor(Date.now() / 1000);

describe('service API authentication', () => {
  it('publishes a connection string with the owner policy and a 32-byte key', () => {
    const cs = parseConnectionString(emulator.serviceConnectionString);
    expect(cs.hostName).toBe(`127.0.0.1:${emulator.port}`);
    expect(emulator.hostName).toBe(cs.hostName);
    expect(cs.sharedAccessKeyName).toBe('provisioningserviceowner');
    expect(Buffer.from(cs.sharedAccessKey, 'base64')).toHaveLength(32);
  });

  it.each([
    ['host:port, URL-encoded (Java, C#)', () => encodeURIComponent(hostName)],
    ['host:port, not encoded (Node)', () => hostName],
    ['host without the port', () => '127.0.0.1'],
    ['the DPS-style service name', () => 'line-station-emulator.azure-devices-provisioning.net'],
    ['upper case', () => hostName.toUpperCase()],
    ['a path prefix', () => `${hostName}/enrollments`],
  ])('accepts a token whose sr is %s', async (_name, resource) => {
    const auth = serviceToken({ resource: resource(), key, policy: 'provisioningserviceowner' });
    const reply = await call(emulator, 'GET', '/enrollments/nobody', { auth });
    expect(reply.status).toBe(404);
  });

  it('accepts the SAS fields in any order', async () => {
    const token = serviceToken({ resource: hostName, key, policy: 'provisioningserviceowner' });
    const fields = token.slice('SharedAccessSignature '.length).split('&').reverse().join('&');
    const reply = await call(emulator, 'GET', '/enrollments/nobody', {
      auth: `SharedAccessSignature ${fields}`,
    });
    expect(reply.status).toBe(404);
  });

  it.each([
    ['no Authorization header', () => false as const],
    [
      'an expired token',
      () =>
        serviceToken({
          resource: hostName,
          key,
          policy: 'provisioningserviceowner',
          expiresAt: now() - 5,
        }),
    ],
    [
      'a token signed with another key',
      () =>
        serviceToken({
          resource: hostName,
          key: randomBytes(32).toString('base64'),
          policy: 'provisioningserviceowner',
        }),
    ],
    [
      'a token naming another policy',
      () => serviceToken({ resource: hostName, key, policy: 'enrollmentread' }),
    ],
    [
      'a token for another host',
      () =>
        serviceToken({
          resource: 'other.azure-devices-provisioning.net',
          key,
          policy: 'provisioningserviceowner',
        }),
    ],
    [
      'a token for another path',
      () =>
        serviceToken({
          resource: `${hostName}/registrations`,
          key,
          policy: 'provisioningserviceowner',
        }),
    ],
    ['a bearer token', () => 'Bearer abc'],
  ])('refuses %s with 401 401002', async (_name, auth) => {
    const reply = await call(emulator, 'GET', '/enrollments/nobody', { auth: auth() });
    expect(reply.status).toBe(401);
    expect(reply.headers['x-ms-error-code']).toBe('401002');
    expect(reply.headers['content-type']).toMatch(/application\/json/);
    const body = reply.body as Record<string, unknown>;
    expect(body.errorCode).toBe(401002);
    expect(body.trackingId).toEqual(expect.any(String));
    expect(Date.parse(body.timestampUtc as string)).not.toBeNaN();
    expect(JSON.stringify(body)).not.toContain(key);
  });
});
