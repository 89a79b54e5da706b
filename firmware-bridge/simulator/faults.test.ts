import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../session/deviceSession.js';
import { createTransport } from '../transports/openTransport.js';
import { ByteFaultInjector } from './byteFaults.js';
import { DeviceFaults, type FaultTarget } from './faults.js';
import { Simulator } from './simulator.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

const bytes = Uint8Array.from({ length: 4000 }, (_, i) => (i % 255) + 1);

describe('ByteFaultInjector', () => {
  it('replays the same damage for the same seed, and different damage for another', () => {
    const damage = (seed: number) => {
      const injector = new ByteFaultInjector(seed);
      injector.set({ drop: 0.01, corrupt: 0.01, duplicate: 0.01 });
      return { out: injector.apply(bytes), counts: injector.counts };
    };
    expect(damage(7)).toEqual(damage(7));
    expect(damage(7).out).not.toEqual(damage(8).out);
    const { counts } = damage(7);
    // 4000 bytes at 1 % each: loose bounds, the point is that each kind happens.
    for (const n of [counts.dropped, counts.corrupted, counts.duplicated]) {
      expect(n).toBeGreaterThan(10);
      expect(n).toBeLessThan(100);
    }
  });

  it('drops, flips or doubles every byte at probability 1', () => {
    const injector = new ByteFaultInjector(1);
    injector.set({ drop: 1 });
    expect(injector.apply(bytes)).toHaveLength(0);
    injector.set({ drop: 0, corrupt: 1 });
    const corrupted = injector.apply(bytes);
    expect(corrupted).toHaveLength(bytes.length);
    expect(corrupted.every((b, i) => b !== bytes[i])).toBe(true);
    injector.set({ corrupt: 0, duplicate: 1 });
    expect(injector.apply(new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 1, 2, 2]));
  });

  it('refuses probabilities outside 0..1 or summing above 1', () => {
    const injector = new ByteFaultInjector(1);
    expect(() => injector.set({ drop: 1.5 })).toThrow(RangeError);
    expect(() => injector.set({ drop: 0.6, corrupt: 0.6 })).toThrow(RangeError);
  });
});

describe('DeviceFaults', () => {
  const idleTarget: FaultTarget = {
    unplug: async () => {},
    replug: async () => 'x',
    reboot: () => {},
    booted: async () => {},
  };

  it('applies byte faults to the direction asked for only', () => {
    const faults = new DeviceFaults(idleTarget, 3);
    faults.setByteFaults({ drop: 1 }, 'tx');
    expect(faults.rx.apply(bytes)).toBe(bytes);
    expect(faults.tx.apply(bytes)).toHaveLength(0);
  });

  it('sets the EK certificate read limit (default one NV buffer) and clears it', () => {
    const faults = new DeviceFaults(idleTarget, 3);
    expect(faults.ekCertificateReadLimit).toBeUndefined();
    faults.truncateEkCertificate();
    expect(faults.ekCertificateReadLimit).toBe(1024);
    faults.truncateEkCertificate(700);
    expect(faults.ekCertificateReadLimit).toBe(700);
    expect(() => faults.truncateEkCertificate(-1)).toThrow(RangeError);
    expect(() => faults.truncateEkCertificate(1.5)).toThrow(RangeError);
    expect(faults.ekCertificateReadLimit).toBe(700);
    faults.clearEkCertificateTruncation();
    expect(faults.ekCertificateReadLimit).toBeUndefined();
  });

  it('fires an armed fault only for the named request, once', async () => {
    const kinds: string[] = [];
    const faults = new DeviceFaults(idleTarget, 3);
    faults.onFault.on((e) => kinds.push(`${e.kind}:${e.during ?? ''}`));
    const fired = faults.rebootDuringNext('COMMIT');
    faults.requestStarting('INFO');
    faults.requestStarting('COMMIT');
    faults.requestStarting('COMMIT');
    await fired;
    expect(kinds).toEqual(['reboot:COMMIT', 'booted:']);
  });
});

describe('a damaged line end to end', () => {
  it('the host session recovers from corrupted request bytes by retrying', async () => {
    const sim = await Simulator.start({ devices: 1, link: 'tcp', baudRate: 0, seed: 42 });
    running.push(sim);
    const device = sim.devices[0]!;
    device.faults.setByteFaults({ corrupt: 0.02 }, 'rx');
    const session = await DeviceSession.open(createTransport(device.hostPath), {
      timeoutScale: 0.1,
      retries: 10,
    });
    running.push({ stop: () => session.close() });
    for (let i = 0; i < 20; i++) {
      expect((await session.request('GET_CONFIG', { bank: 0 })).idScope).toBeUndefined();
    }
    const { decoder } = device.stats;
    expect(device.faults.byteFaultCounts.rx.corrupted).toBeGreaterThan(0);
    expect(decoder.rejected.crc + decoder.rejected.cobs + decoder.rejected.short).toBeGreaterThan(
      0,
    );
    expect(session.stats.retransmissions).toBeGreaterThan(0);
  });
});
