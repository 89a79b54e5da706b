import { afterAll } from 'vitest';
import { CertError } from '../../certs/certErrors.js';
import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import { DeviceSession, type SessionOptions } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { createDemoCa, type DemoCa } from '../../station/demo/demoCa.js';
import type { X509DeviceKeyPlan } from '../../station/line/provisionX509DeviceKey.js';

let sharedCa: Promise<DemoCa> | undefined;

/** One throw-away station CA per test file, removed after the file's tests. */
export function testCa(): Promise<DemoCa> {
  if (!sharedCa) {
    const created = createDemoCa('Line Station TEST');
    sharedCa = created;
    afterAll(async () => (await created).dispose());
  }
  return sharedCa;
}

export async function testPlan(): Promise<X509DeviceKeyPlan> {
  return {
    globalEndpoint: 'global.azure-devices-provisioning.net',
    idScope: '0ne00TEST01',
    registrationIdFor: (info) => `test-${info.serialNumber.toLowerCase()}`,
    issueCertificate: async (csr, registrationId) =>
      (await testCa()).ca.issueFromCsr(csr, { registrationId }),
  };
}

export async function openSession(
  path: string,
  options: SessionOptions = {},
): Promise<DeviceSession> {
  return DeviceSession.open(createTransport(path), options);
}

/** Resolves with the error code a promise rejects with; fails the test if it resolves. */
export async function wireErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WireError || err instanceof CertError) return err.code;
    throw err;
  }
  throw new Error('expected the request to fail');
}
