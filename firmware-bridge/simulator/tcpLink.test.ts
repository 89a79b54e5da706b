import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../session/deviceSession.js';
import { createTransport } from '../transports/openTransport.js';
import { Simulator } from './simulator.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function openSession(hostPath: string): Promise<DeviceSession> {
  const session = await DeviceSession.open(createTransport(hostPath));
  running.push({ stop: () => session.close() });
  return session;
}

/** Resolves when a raw client is closed by the server. */
function connectRaw(hostPath: string): Promise<{ closed: Promise<void> }> {
  const url = new URL(hostPath);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.once('error', reject);
    socket.connect(Number(url.port), url.hostname, () => {
      resolve({ closed: new Promise((r) => socket.once('close', () => r())) });
    });
    running.push({ stop: async () => void socket.destroy() });
  });
}

describe('Simulator over TCP (serial device server in raw TCP-server mode)', () => {
  it('serves each device on its own loopback port, one client at a time', async () => {
    const sim = await Simulator.start({ devices: 2, link: 'tcp', baudRate: 0 });
    running.push(sim);
    const [a, b] = sim.devices;
    expect(a!.hostPath).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(a!.hostPath).not.toBe(b!.hostPath);
    const session = await openSession(b!.hostPath);
    expect((await session.identify()).serialNumber).toBe('SIM000002');
    // A second client while the first is connected is turned away.
    const intruder = await connectRaw(b!.hostPath);
    await intruder.closed;
    expect((await session.request('GET_CONFIG', { bank: 0 })).idScope).toBeUndefined();
  });

  it('unplug drops the client and refuses connections; replug listens on the same port', async () => {
    const sim = await Simulator.start({
      devices: 1,
      link: 'tcp',
      baudRate: 0,
      latencies: { bootMs: 5 },
    });
    running.push(sim);
    const device = sim.devices[0]!;
    const path = device.hostPath;
    const session = await openSession(path);
    await session.request('SET_CONFIG', { idScope: 'staged' });
    const closed = new Promise((resolve) => session.onClosed.on(resolve));
    await device.faults.unplug();
    expect(await closed).toMatchObject({ code: 'WIRE_DISCONNECTED' });
    await expect(DeviceSession.open(createTransport(path))).rejects.toMatchObject({
      code: 'WIRE_SERVER_UNREACHABLE',
    });
    expect(await device.faults.replug()).toBe(path);
    const again = await openSession(path);
    expect(await again.request('GET_CONFIG', { bank: 1 })).toEqual({});
  });
});
