import { DeviceSession } from '../../../firmware-bridge/session/deviceSession.js';
import type { SimulatedDevice } from '../../../firmware-bridge/simulator/simulatedDevice.js';
import { createTransport } from '../../../firmware-bridge/transports/openTransport.js';
import type { AttestationServices } from '../attestation/attestor.js';
import { runProvisioning, type RunOutcome } from '../provisioningRun.js';
import { InMemoryRunRecorder, testProfile, testServices } from './lineTestKit.js';

/**
 * One port of a fixture whose adapter stays while the board behind it is swapped: `first`
 * answers every request up to and including the first `after` request, `second` everything
 * after, and the port never hangs up. Returns the session a run is given.
 */
function boardSwappedAfter(
  first: DeviceSession,
  second: DeviceSession,
  after: string,
): DeviceSession {
  let onPort: DeviceSession = first;
  const request = first.request.bind(first);
  first.request = (async (name: never, req: never, options: never) => {
    const response = await request(name, req, options);
    if (name === after) onPort = second;
    return response;
  }) as DeviceSession['request'];
  return new Proxy(first, {
    get(_, prop) {
      const value: unknown = Reflect.get(onPort, prop, onPort);
      return typeof value === 'function' ? (value as () => unknown).bind(onPort) : value;
    },
  });
}

/**
 * A TPM run on `first`'s port whose board is swapped for `second` right after its GET_EK
 * (boardSwappedAfter), with the TPM makers' CAs of `services`; the sessions close after it.
 */
export async function tpmRunOnSwappedBoard(
  first: SimulatedDevice,
  second: SimulatedDevice,
  services: Partial<AttestationServices>,
): Promise<{ outcome: RunOutcome; recorder: InMemoryRunRecorder }> {
  const sessions = [
    await DeviceSession.open(createTransport(first.hostPath)),
    await DeviceSession.open(createTransport(second.hostPath)),
  ] as const;
  try {
    const profile = testProfile({ attestation: { mode: 'tpm' } });
    const recorder = new InMemoryRunRecorder();
    const port = boardSwappedAfter(sessions[0], sessions[1], 'GET_EK');
    const outcome = await runProvisioning({
      port: 'fixture',
      profile,
      recorder,
      services: await testServices(profile, services),
      session: () => Promise.resolve(port),
    });
    return { outcome, recorder };
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
}
