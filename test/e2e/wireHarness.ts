import { Crypto } from '@peculiar/webcrypto';
import { createInMemoryCa, type InMemoryCa } from '../../certs/referenceIssuer.js';
import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import { DeviceSession, type SessionOptions } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import type { X509DeviceKeyPlan } from '../../station/line/provisionX509DeviceKey.js';

let sharedCa: Promise<InMemoryCa> | undefined;

/** One test CA per test file: issuing is not what these tests are about. */
export function testCa(): Promise<InMemoryCa> {
  sharedCa ??= createInMemoryCa(new Crypto(), 'Line Station TEST');
  return sharedCa;
}

export async function testPlan(): Promise<X509DeviceKeyPlan> {
  return {
    globalEndpoint: 'global.azure-devices-provisioning.net',
    idScope: '0ne00TEST01',
    registrationIdFor: (info) => `test-${info.serialNumber.toLowerCase()}`,
    ca: await testCa(),
  };
}

export async function openSession(
  path: string,
  options: SessionOptions = {},
): Promise<DeviceSession> {
  return DeviceSession.open(createTransport(path), options);
}

/** Resolves with the WireError code a promise rejects with; fails the test if it resolves. */
export async function wireErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
  throw new Error('expected the request to fail');
}
