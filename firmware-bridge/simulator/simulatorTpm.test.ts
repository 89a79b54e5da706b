import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../session/deviceSession.js';
import { createTransport } from '../transports/openTransport.js';
import { Simulator, type SimulatorOptions } from './simulator.js';
import { testTpm } from './testKit.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function start(options: Partial<SimulatorOptions>): Promise<Simulator> {
  const sim = await Simulator.start({ devices: 2, link: 'tcp', baudRate: 0, ...options });
  running.push(sim);
  return sim;
}

async function openSession(hostPath: string): Promise<DeviceSession> {
  const session = await DeviceSession.open(createTransport(hostPath));
  running.push({ stop: () => session.close() });
  return session;
}

describe('Simulator with TPMs', () => {
  it('gives each device the TPM contents provided for it, answered over the wire', async () => {
    const first = testTpm(1400, 1);
    const seen: unknown[] = [];
    const sim = await start({
      tpm: async (slot) => {
        seen.push(slot);
        return slot.serialNumber === 'SIM000001' ? first : undefined;
      },
    });
    expect(seen).toEqual([
      { index: 0, serialNumber: 'SIM000001' },
      { index: 1, serialNumber: 'SIM000002' },
    ]);

    const withTpm = await openSession(sim.devices[0]!.hostPath);
    expect((await withTpm.identify()).features.tpm).toBe(true);
    const framesBefore = withTpm.stats.framesSent;
    expect(await withTpm.request('GET_EK', {})).toEqual(first);
    // 1400 bytes of certificate against the device's maxFrame of 512: the request, then an
    // ACK for every chunk but the last.
    expect(withTpm.stats.framesSent - framesBefore).toBeGreaterThanOrEqual(3);

    const without = await openSession(sim.devices[1]!.hostPath);
    expect((await without.identify()).features.tpm).toBe(false);
    await expect(without.request('GET_EK', {})).rejects.toMatchObject({
      code: 'DEVICE_NOT_SUPPORTED',
      detail: 'no TPM',
    });
  });

  it('fails the start when features.tpm contradicts a device, naming the device', async () => {
    await expect(
      start({ features: { tpm: true }, tpm: (s) => (s.index === 0 ? testTpm() : undefined) }),
    ).rejects.toThrow('SIM000002: features.tpm is true but no TPM contents were given');
    await expect(start({ features: { tpm: false }, tpm: () => testTpm() })).rejects.toThrow(
      'SIM000001: TPM contents were given but features.tpm is false',
    );
  });

  it('fails the start with the error of the TPM provider', async () => {
    const failure = new Error('no EK for SIM000002');
    await expect(
      start({
        tpm: (s) => {
          if (s.index === 1) throw failure;
          return testTpm();
        },
      }),
    ).rejects.toBe(failure);
  });

  it('truncates the EK certificate while the fault is on, as a single NV read would', async () => {
    const tpm = testTpm(1400);
    const sim = await start({ devices: 1, tpm: () => tpm });
    const device = sim.devices[0]!;
    const session = await openSession(device.hostPath);
    await session.identify();
    device.faults.truncateEkCertificate();
    expect(await session.request('GET_EK', {})).toEqual({
      ekPublic: tpm.ekPublic,
      ekCertificate: tpm.ekCertificate!.subarray(0, 1024),
    });
    device.faults.clearEkCertificateTruncation();
    expect(await session.request('GET_EK', {})).toEqual(tpm);
  });
});
