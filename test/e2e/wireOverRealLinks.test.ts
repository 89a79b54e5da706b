import { afterEach, describe, expect, it } from 'vitest';
import { damagedFrames } from '../../firmware-bridge/codec/frameDecoder.js';
import { BANK_COMMITTED, BANK_STAGED } from '../../firmware-bridge/codec/messages.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { provisionX509DeviceKey } from '../../station/line/provisionX509DeviceKey.js';
import { openSession, testCa, testPlan, wireErrorCode } from './wireHarness.js';

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

describe.each(['pty', 'tcp'] as const)('the full X.509 exchange over %s', (link) => {
  it('provisions several devices at once and each commits what the station wrote', async () => {
    simulator = await Simulator.start({ devices: 3, link, baudRate: 115_200 });
    const plan = await testPlan();
    const results = await Promise.all(
      simulator.devices.map(async (device) => {
        const session = await openSession(device.hostPath, { baudRate: 115_200 });
        try {
          return await provisionX509DeviceKey(session, plan);
        } finally {
          await session.close();
        }
      }),
    );
    for (const [i, device] of simulator.devices.entries()) {
      const result = results[i]!;
      expect(result.registrationId).toBe(`test-${device.serialNumber.toLowerCase()}`);
      const committed = device.state.committed;
      expect(committed.config.registrationId).toBe(result.registrationId);
      expect(committed.config.idScope).toBe('0ne00TEST01');
      expect(
        Buffer.from(committed.certChain?.[0] ?? []).equals(Buffer.from(result.certificateDer)),
      ).toBe(true);
      // COMMIT empties the staged bank.
      expect(device.state.staged).toEqual({ config: {} });
    }
  });
});

describe('faults on a real pty', () => {
  it('an unplug mid key generation fails that run with WIRE_DISCONNECTED; the device keeps its identity', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const plan = await testPlan();
    let session = await openSession(device.hostPath);
    const first = await provisionX509DeviceKey(session, plan);
    const unplugged = device.faults.unplugDuringNext('GEN_KEY_CSR');
    expect(await wireErrorCode(provisionX509DeviceKey(session, plan))).toBe('WIRE_DISCONNECTED');
    await unplugged;
    await session.close();

    const newPath = await device.faults.replug();
    session = await openSession(newPath);
    const info = await session.identify();
    expect(info.identityState).toBe(1);
    const committed = await session.request('GET_CONFIG', { bank: BANK_COMMITTED });
    expect(committed.registrationId).toBe(first.registrationId);
    expect(
      Buffer.from(device.state.committed.certChain?.[0] ?? []).equals(
        Buffer.from(first.certificateDer),
      ),
    ).toBe(true);
    await session.close();
  });

  it('a stalled device fails the request with WIRE_TIMEOUT after the bounded retries', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const session = await openSession(device.hostPath, { timeoutScale: 0.1, retries: 2 });
    await session.identify();
    device.faults.stall('forever');
    expect(await wireErrorCode(session.request('GET_CONFIG', { bank: BANK_STAGED }))).toBe(
      'WIRE_TIMEOUT',
    );
    expect(session.stats.retransmissions).toBe(2);
    device.faults.clearStall();
    expect((await session.identify()).serialNumber).toBe(device.serialNumber);
    await session.close();
  });

  it('a reboot before COMMIT loses the staged settings: COMMIT says DEVICE_NOTHING_STAGED', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const session = await openSession(device.hostPath);
    await session.identify();
    await session.request('SET_CONFIG', { idScope: '0ne00STAGED' });
    expect((await session.request('GET_CONFIG', { bank: BANK_STAGED })).idScope).toBe(
      '0ne00STAGED',
    );
    await device.faults.reboot();
    const commitId = new Uint8Array(16).fill(7);
    expect(await wireErrorCode(session.request('COMMIT', { commitId }))).toBe(
      'DEVICE_NOTHING_STAGED',
    );
    expect((await session.request('GET_CONFIG', { bank: BANK_COMMITTED })).idScope).toBeUndefined();
    await session.close();
  });

  it('a reboot during key generation: the re-send makes a new key, but the lost settings fail the run before COMMIT', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const plan = await testPlan();
    // Key generation's guidance scaled to 2 s: the re-send at a third of it finds the device
    // booted (300 ms), which runs it as a new request (its stored answer went with its RAM).
    const session = await openSession(device.hostPath, { timeoutScale: 0.2 });
    const rebooted = device.faults.rebootDuringNext('GEN_KEY_CSR');
    await expect(provisionX509DeviceKey(session, plan)).rejects.toMatchObject({
      code: 'RUN_VERIFY_CONFIG_MISMATCH',
    });
    await rebooted;
    expect(session.stats.retransmissions).toBeGreaterThan(0);
    // The settings written before the reboot are gone: the read-back of the staged bank said
    // so above, and nothing reached the committed bank.
    expect(device.state.committed.config).toEqual({});
    expect(device.state.committed.certChain).toBeUndefined();
    await session.close();
  });

  it('corrupted, dropped and duplicated bytes are rejected by CRC and recovered by retries', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, seed: 42 });
    const device = simulator.devices[0]!;
    const session = await openSession(device.hostPath, { timeoutScale: 0.05, retries: 8 });
    await session.identify();
    // Rates low enough that a request fails nine tries in a row with odds below one in a million.
    device.faults.setByteFaults({ corrupt: 0.0004, drop: 0.0002, duplicate: 0.0002 });
    for (let i = 0; i < 60; i++) {
      const scope = `0ne${String(i).padStart(8, '0')}`;
      await session.request('SET_CONFIG', { idScope: scope, extra: { pad: 'x'.repeat(200) } });
      expect((await session.request('GET_CONFIG', { bank: BANK_STAGED })).idScope).toBe(scope);
    }
    const damaged = device.faults.byteFaultCounts;
    const hostRejected = Object.values(session.stats.decoder.rejected).reduce((a, b) => a + b, 0);
    const deviceRejected = Object.values(device.stats.decoder.rejected).reduce((a, b) => a + b, 0);
    expect(damaged.rx.corrupted + damaged.tx.corrupted).toBeGreaterThan(0);
    expect(hostRejected + deviceRejected).toBeGreaterThan(0);
    expect(session.stats.retransmissions).toBeGreaterThan(0);
    await session.close();
  });

  it('a key generation whose answer arrives damaged is answered by the replay, not run again', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, seed: 7 });
    const device = simulator.devices[0]!;
    // Without a re-ask, each damaged CSR would wait out its timeout and fail as WIRE_LINK_NOISY.
    const session = await openSession(device.hostPath, { timeoutScale: 0.05, retries: 8 });
    await session.identify();
    // Only the device's answers are damaged: about one CSR answer in three.
    device.faults.setByteFaults({ corrupt: 0.0015 }, 'tx');
    const before = device.stats.endpoint;
    const keys = 20;
    for (let i = 0; i < keys; i++) {
      const { csr } = await session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: `k${i}` });
      expect(csr.length).toBeGreaterThan(100);
    }
    const after = device.stats.endpoint;
    expect(damagedFrames(session.stats.decoder)).toBeGreaterThan(0);
    // Every damaged answer was replayed, never generated again: one execution per key.
    expect(after.replays - before.replays).toBeGreaterThan(0);
    expect(after.executions - before.executions).toBe(keys);
    await session.close();
  });

  it('a certificate for another key is refused by the device with DEVICE_KEY_MISMATCH', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const session = await openSession(simulator.devices[0]!.hostPath);
    await session.identify();
    await session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'test-x' });
    const { ca } = await testCa();
    const chain = [ca.chain()[0]!];
    expect(await wireErrorCode(session.request('PUT_CERT_CHAIN', { chain }))).toBe(
      'DEVICE_KEY_MISMATCH',
    );
    await session.close();
  });

  it('garbage on the line before the first frame does not disturb the exchange', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    const session = await openSession(device.hostPath);
    await session.transport.write(new TextEncoder().encode('boot: ROM v2.1\r\nloader ok\r\n'));
    await session.transport.write(Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
    expect((await session.identify()).serialNumber).toBe(device.serialNumber);
    await session.close();
  });
});
