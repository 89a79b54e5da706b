/**
 * x509-station-key on a simulated device (pty, real session, real station CA): the key the
 * station made is written once and then no copy of it is left in station memory, neither the
 * PKCS#8 the CA exported nor any frame that carried it to the device, whatever the outcome.
 */
import { describe, expect, it } from 'vitest';
import type { StationCa } from '../../../certs/stationCa.js';
import { FrameDecoder } from '../../../firmware-bridge/codec/frameDecoder.js';
import { MessageType } from '../../../firmware-bridge/codec/messages.js';
import { WireError } from '../../../firmware-bridge/codec/wireErrors.js';
import type { SimulatedDevice } from '../../../firmware-bridge/simulator/simulator.js';
import { DeviceSession } from '../../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../../firmware-bridge/transports/openTransport.js';
import { oneSimulatedDevicePerTest, testProfile, testServices } from '../testing/lineTestKit.js';
import type { AttestInput } from './attestor.js';
import { x509StationKeyAttestor } from './x509StationKey.js';

const startDevice = oneSimulatedDevicePerTest();
const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

/**
 * Runs the attestor on `device`, keeping a reference to every key buffer the CA hands out and
 * every array the session writes (with a copy of what it held then, to find the key's frames).
 */
async function attestOn(
  device: SimulatedDevice,
  overrides: Partial<AttestInput> = {},
): Promise<{ outcome: string; keys: Buffer[]; keyFrames: Uint8Array[] }> {
  const profile = testProfile({ attestation: { mode: 'x509-station-key' } });
  const services = await testServices(profile);
  const keys: Buffer[] = [];
  const ca = Object.create(services.ca) as StationCa;
  ca.issueWithStationKey = async (options) => {
    const issued = await services.ca.issueWithStationKey(options);
    keys.push(issued.privateKeyPkcs8);
    return issued;
  };
  const session = await DeviceSession.open(createTransport(device.hostPath));
  const keyFrames: Uint8Array[] = [];
  const decoder = new FrameDecoder(8192);
  const write = session.transport.write.bind(session.transport);
  session.transport.write = (bytes) => {
    const frames = decoder.push(Uint8Array.from(bytes));
    if (frames.some((f) => f.type === MessageType.PUT_PRIVATE_KEY)) keyFrames.push(bytes);
    return write(bytes);
  };
  try {
    const info = await session.identify();
    const outcome = await x509StationKeyAttestor
      .attest({
        session,
        profile,
        info,
        registrationId: `station-key-${device.serialNumber.toLowerCase()}`,
        request: {},
        services: { ...services, ca },
        issuedFor: 'test',
        onCertificateIssued: () => {},
        onEvidence: () => {},
        ...overrides,
      })
      .then(
        () => 'pass',
        (err: unknown) => (err instanceof WireError ? err.code : (err as Error).message),
      );
    return { outcome, keys, keyFrames };
  } finally {
    await session.close();
  }
}

describe('x509-station-key leaves no copy of the key in station memory', () => {
  it('zeroes the exported key and every frame that carried it, once the device took it', async () => {
    const { outcome, keys, keyFrames } = await attestOn(await startDevice());
    expect(outcome).toBe('pass');
    expect(keys).toHaveLength(1);
    expect(keyFrames.length).toBeGreaterThan(0);
    expect(keys.every(isZero)).toBe(true);
    expect(keyFrames.every(isZero)).toBe(true);
  });

  it('zeroes them when the device refuses the key', async () => {
    const device = await startDevice({ features: { keyInjection: false } });
    const { outcome, keys, keyFrames } = await attestOn(device);
    expect(outcome).toBe('DEVICE_NOT_SUPPORTED');
    expect(keyFrames.length).toBeGreaterThan(0);
    expect(keys.every(isZero)).toBe(true);
    expect(keyFrames.every(isZero)).toBe(true);
  });

  it('zeroes them when the device is unplugged while it takes the key', async () => {
    const device = await startDevice();
    void device.faults.unplugDuringNext('PUT_PRIVATE_KEY').catch(() => {});
    const { outcome, keys, keyFrames } = await attestOn(device);
    expect(outcome).toMatch(/^WIRE_/);
    expect(keyFrames.length).toBeGreaterThan(0);
    expect(keys.every(isZero)).toBe(true);
    expect(keyFrames.every(isZero)).toBe(true);
  });

  it('zeroes the key when recording the issued certificate fails, before any write', async () => {
    const { outcome, keys, keyFrames } = await attestOn(await startDevice(), {
      onCertificateIssued: () => {
        throw new Error('recorder gone');
      },
    });
    expect(outcome).toBe('recorder gone');
    expect(keys).toHaveLength(1);
    expect(keyFrames).toHaveLength(0);
    expect(keys.every(isZero)).toBe(true);
  });
});
