/**
 * A non-idempotent request met by silence, against the simulated firmware on a real pty: the
 * session sends it again within its one timeout (PROTOCOL.md §6.1), and the device, which
 * ignores a repeat while busy and replays its answer after (§6.2), generates one key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../session/deviceSession.js';
import { SerialTransport } from '../transports/serialTransport.js';
import type { RequestEvent } from './deviceEndpoint.js';
import { socatOnPath } from './ptyPair.js';
import { Simulator, type SimulatorOptions } from './simulator.js';

const BAUD = 115_200;
/** GEN_KEY_CSR's 10 s guidance scaled to 2 s (plus link time): early re-sends near 0.7 s, 1.4 s. */
const SCALE = 0.2;
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function oneDevice(options: Partial<SimulatorOptions> = {}) {
  const sim = await Simulator.start({ devices: 1, link: 'pty', baudRate: BAUD, ...options });
  running.push(sim);
  const device = sim.devices[0]!;
  const session = await DeviceSession.open(
    new SerialTransport({ path: device.hostPath, baudRate: BAUD }),
    { baudRate: BAUD, timeoutScale: SCALE },
  );
  running.push({ stop: () => session.close() });
  await session.identify();
  const keygens: RequestEvent[] = [];
  device.onRequest.on((e) => {
    if (e.name === 'GEN_KEY_CSR') keygens.push(e);
  });
  return { device, session, keygens };
}

const keygen = { curve: 'P-256', commonName: 'lost-once' } as const;

describe.skipIf(!socatOnPath())('re-sending a GEN_KEY_CSR met by silence (needs socat)', () => {
  it('a request lost on its way is sent again and answered well inside its guidance; one key', async () => {
    const { device, session, keygens } = await oneDevice();
    // The firmware hears nothing for 300 ms: the request that arrives meanwhile is lost, as one
    // garbled past its CRC is. The re-send at a third of the timeout finds it listening.
    device.faults.stall(300);
    const started = performance.now();
    const { csr } = await session.request('GEN_KEY_CSR', keygen);
    const elapsed = performance.now() - started;
    expect(device.stats.lostInStall).toBeGreaterThan(0);
    expect(csr.length).toBeGreaterThan(100);
    // Before the timeout, which a request that was not sent again would have met and failed at
    // (the slack is for a loaded machine's timers).
    expect(elapsed).toBeLessThan(10_000 * SCALE * 0.9);
    expect(session.stats.retransmissions).toBe(1);
    // Generated once, on the device, by the re-send: nothing to replay.
    expect(keygens).toHaveLength(1);
    expect(device.stats.endpoint.replays).toBe(0);
    expect(device.state.staged.identityKey).toBeDefined();
  });

  it('a device busy with the request ignores the re-sends and executes it once', async () => {
    // Key generation takes longer than a third of the timeout: the re-send arrives while the
    // device is busy with the very request.
    const { device, session, keygens } = await oneDevice({ latencies: { keygenMs: 1000 } });
    const ignoredBefore = device.stats.endpoint.framesIgnored;
    const { csr } = await session.request('GEN_KEY_CSR', keygen);
    expect(csr.length).toBeGreaterThan(100);
    expect(session.stats.retransmissions).toBeGreaterThanOrEqual(1);
    // Each re-send was ignored while the key was made, or (a loaded machine's late answer past
    // the second re-send) answered by the replay: never executed again.
    const ignored = device.stats.endpoint.framesIgnored - ignoredBefore;
    expect(ignored).toBeGreaterThanOrEqual(1);
    expect(ignored + device.stats.endpoint.replays).toBe(session.stats.retransmissions);
    expect(keygens).toHaveLength(1);
  });

  it('a dead device still fails at the guidance with WIRE_TIMEOUT, not three times later', async () => {
    const { device, session, keygens } = await oneDevice();
    device.faults.stall('forever');
    const sentBefore = session.stats.framesSent;
    const started = performance.now();
    await expect(session.request('GEN_KEY_CSR', keygen)).rejects.toMatchObject({
      code: 'WIRE_TIMEOUT',
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(10_000 * SCALE);
    expect(elapsed).toBeLessThan(10_000 * SCALE * 1.5);
    expect(session.stats.framesSent - sentBefore).toBe(3);
    expect(keygens).toHaveLength(0);
  });
});
