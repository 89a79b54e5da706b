import { expect } from 'vitest';
import {
  startDpsEmulator,
  type DpsEmulator,
  type DpsEmulatorOptions,
} from '../../dps/emulator/dpsEmulator.js';
import { CompatPki } from './compatCredentials.js';
import { LoopbackAgent, serviceClientFor, type ProvisioningServiceClient } from './sdkAgent.js';
import { dpsErrorCodeOf, type SdkError } from './sdkCalls.js';

/** The DPS name the SDKs are given; the emulator's certificate carries it as a SAN. */
export const COMPAT_SERVICE_NAME = 'line-station-compat';

/** The IoT hubs linked to the emulator in these tests. */
export const COMPAT_HUBS = ['compat-hub-1.azure-devices.net', 'compat-hub-2.azure-devices.net'];

/** One emulator on loopback, the official service client aimed at it, and a test PKI. */
export interface CompatSession {
  emulator: DpsEmulator;
  agent: LoopbackAgent;
  service: ProvisioningServiceClient;
  pki: CompatPki;
  close(): Promise<void>;
}

/**
 * Starts an emulator (127.0.0.1, ephemeral port, in memory) with the compat hubs. `withPki` runs
 * before the emulator starts, so CAs it makes can be passed as `verifiedCas`.
 */
export async function startCompatSession(
  withPki: (pki: CompatPki) => Partial<DpsEmulatorOptions> = () => ({}),
): Promise<CompatSession> {
  const pki = CompatPki.create();
  let emulator: DpsEmulator;
  try {
    emulator = await startDpsEmulator({
      host: '127.0.0.1',
      port: 0,
      serviceName: COMPAT_SERVICE_NAME,
      hubs: COMPAT_HUBS,
      ...withPki(pki),
    });
  } catch (err) {
    pki.remove();
    throw err;
  }
  const agent = new LoopbackAgent(emulator);
  return {
    emulator,
    agent,
    service: serviceClientFor(emulator, agent, COMPAT_SERVICE_NAME),
    pki,
    async close() {
      agent.destroy();
      await emulator.close();
      pki.remove();
    },
  };
}

/**
 * Checks an SDK error: its class name (the SDK's mapping of the status, dps-protocol.md §1.9),
 * the HTTP status, and a six-digit DPS errorCode in the body that starts with that status.
 */
export function expectDpsRefusal(err: SdkError, status: number, name: string): void {
  expect({ name: err.name, status: err.response?.statusCode }).toEqual({ name, status });
  const code = dpsErrorCodeOf(err);
  expect(code, `errorCode in ${err.responseBody ?? '(no body)'}`).toBeGreaterThanOrEqual(
    status * 1000,
  );
  expect(code).toBeLessThan((status + 1) * 1000);
}
