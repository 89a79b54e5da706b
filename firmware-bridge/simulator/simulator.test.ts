import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterEach, describe, expect, it } from 'vitest';
import { damagedFrames } from '../codec/frameDecoder.js';
import { WireError } from '../codec/wireErrors.js';
import { DeviceSession } from '../session/deviceSession.js';
import { SerialTransport } from '../transports/serialTransport.js';
import type { RequestEvent } from './deviceEndpoint.js';
import { socatOnPath } from './ptyPair.js';
import { bootBanner } from './simulatedDevice.js';
import { Simulator, type SimulatorOptions } from './simulator.js';
import { makeTestCa, verifyEcdsa } from './testKit.js';

const BAUD = 115_200;
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function start(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await Simulator.start({ devices: 2, link: 'pty', baudRate: BAUD, ...options });
  running.push(sim);
  return sim;
}

async function openSession(hostPath: string): Promise<DeviceSession> {
  const session = await DeviceSession.open(
    new SerialTransport({ path: hostPath, baudRate: BAUD }),
    {
      baudRate: BAUD,
    },
  );
  running.push({ stop: () => session.close() });
  return session;
}

describe.skipIf(!socatOnPath())(
  'Simulator on real ptys (needs socat: scripts/install-test-deps.sh)',
  () => {
    it('serves each device on its own tty with stable serial numbers', async () => {
      const sim = await start();
      expect(sim.devices.map((d) => d.serialNumber)).toEqual(['SIM000001', 'SIM000002']);
      expect(sim.devices[0]!.hostPath).toMatch(/^\/dev\/pts\/\d+$/);
      expect(sim.devices[0]!.hostPath).not.toBe(sim.devices[1]!.hostPath);
      const second = await openSession(sim.devices[1]!.hostPath);
      expect((await second.identify()).serialNumber).toBe('SIM000002');
    });

    it('runs a full device-key exchange with the host session over the tty', async () => {
      const sim = await start();
      const device = sim.devices[0]!;
      const events: RequestEvent[] = [];
      device.onRequest.on((e) => events.push(e));
      const session = await openSession(device.hostPath);

      const info = await session.identify();
      expect(info).toMatchObject({
        serialNumber: 'SIM000001',
        model: 'LS-DEMO-1',
        maxFrame: 512,
        identityState: 0,
      });

      const config = {
        globalEndpoint: 'global.azure-devices-provisioning.net',
        idScope: '0ne00TEST1',
        registrationId: 'sim000001',
      };
      expect(await session.request('SET_CONFIG', config)).toEqual({});
      expect(await session.request('GET_CONFIG', { bank: 1 })).toEqual(config);

      const { csr: csrDer } = await session.request('GEN_KEY_CSR', {
        curve: 'P-256',
        commonName: 'sim000001',
      });
      const csr = new x509.Pkcs10CertificateRequest(csrDer);
      expect(await csr.verify()).toBe(true);
      expect(csr.subject).toBe('CN=sim000001');

      // Leaf plus CA: more than one 512-byte frame, so this exercises a chunked request on the tty.
      const ca = await makeTestCa();
      const chain = [await ca.issue(csr.publicKey, 'sim000001'), ca.certificate];
      expect(chain[0]!.length + chain[1]!.length).toBeGreaterThan(512);
      expect(await session.request('PUT_CERT_CHAIN', { chain })).toEqual({});

      const nonce = new Uint8Array(randomBytes(32));
      const { signature } = await session.request('SIGN_CHALLENGE', { nonce, bank: 1, kind: 1 });
      const signed = Buffer.concat([Buffer.from('LSCHAL1\0', 'latin1'), nonce]);
      expect(verifyEcdsa(csr.publicKey.rawData, signed, signature, 'sha256')).toBe(true);

      const commitId = new Uint8Array(randomBytes(16));
      expect(await session.request('COMMIT', { commitId })).toEqual({ commitId });
      expect(device.state).toMatchObject({
        identityState: 1,
        committed: { config, certChain: chain },
        staged: { config: {} },
      });
      expect(events.map((e) => e.name)).toEqual([
        'INFO',
        'SET_CONFIG',
        'GET_CONFIG',
        'GEN_KEY_CSR',
        'PUT_CERT_CHAIN',
        'SIGN_CHALLENGE',
        'COMMIT',
      ]);
      expect(events.find((e) => e.name === 'GEN_KEY_CSR')!.deviceMs).toBe(2 + 150 + 30);
      expect(session.stats.retransmissions).toBe(0);
    });

    it('remembers the committed identity across a simulator restart on the same state dir', async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'sim-restart-'));
      running.push({ stop: () => rm(stateDir, { recursive: true, force: true }) });
      const first = await start({ devices: 1, stateDir, baudRate: 0 });
      const s1 = await openSession(first.devices[0]!.hostPath);
      await s1.request('SET_CONFIG', { idScope: 'kept' });
      await s1.request('COMMIT', { commitId: new Uint8Array(16).fill(1) });
      await s1.close();
      await first.stop();

      const second = await start({ devices: 1, stateDir, baudRate: 0 });
      const s2 = await openSession(second.devices[0]!.hostPath);
      expect(await s2.request('GET_CONFIG', { bank: 0 })).toEqual({ idScope: 'kept' });
    });

    it('unplug hangs up the host tty; replug gives a new tty and a device that lost its staged state', async () => {
      const sim = await start({ devices: 1, latencies: { bootMs: 20 } });
      const device = sim.devices[0]!;
      const session = await openSession(device.hostPath);
      await session.identify();
      await session.request('SET_CONFIG', { idScope: 'staged-only' });

      const closed = new Promise<WireError>((resolve) => session.onClosed.on(resolve));
      const unplugged = device.faults.unplugDuringNext('GEN_KEY_CSR');
      const request = session.request('GEN_KEY_CSR', { curve: 'P-256', commonName: 'x' });
      await expect(request).rejects.toMatchObject({ code: 'WIRE_DISCONNECTED' });
      await unplugged;
      const error = await closed;
      expect(error.code).toBe('WIRE_DISCONNECTED');
      // What serialport reports for a hung-up tty.
      expect(error.cause).toMatchObject({ disconnected: true });

      // A new socat pair; the kernel may hand out the freed pty number again, as a USB adapter
      // re-enumerates as the same ttyUSB0.
      const newPath = await device.faults.replug();
      expect(newPath).toBe(device.hostPath);
      expect(newPath).toMatch(/^\/dev\/pts\/\d+$/);
      const again = await openSession(newPath);
      expect(await again.request('GET_CONFIG', { bank: 1 })).toEqual({});
      expect(device.state.staged.identityKey).toBeUndefined();
    });

    it('reboot mid-request drops it; the re-send is executed afresh, and what was staged is gone', async () => {
      const sim = await start({ devices: 1, latencies: { bootMs: 10 } });
      const device = sim.devices[0]!;
      const session = await openSession(device.hostPath);
      await session.identify();
      await session.request('SET_CONFIG', { idScope: '0ne00STAGED' });
      const faults: string[] = [];
      device.faults.onFault.on((e) => faults.push(`${e.kind}${e.during ? `:${e.during}` : ''}`));
      const keygens: RequestEvent[] = [];
      device.onRequest.on((e) => e.name === 'GEN_KEY_CSR' && keygens.push(e));
      const rebooted = device.faults.rebootDuringNext('GEN_KEY_CSR');
      // The rebooted device lost its stored answer with its RAM, so the session's re-send within
      // the timeout (PROTOCOL.md §6.1) is a new request to it: one key, made after the reboot.
      const { csr } = await session.request(
        'GEN_KEY_CSR',
        { curve: 'P-256', commonName: 'x' },
        { timeoutMs: 600 },
      );
      await rebooted;
      expect(faults).toEqual(['reboot:GEN_KEY_CSR', 'booted']);
      expect(csr.length).toBeGreaterThan(100);
      expect(keygens).toHaveLength(1);
      expect(device.state.staged.identityKey).toBeDefined();
      // What was staged before the reboot is gone: a host reads the staged bank back before
      // COMMIT, which is where such a run fails.
      expect((await session.request('GET_CONFIG', { bank: 1 })).idScope).toBeUndefined();
    });

    it('a rebooted device prints its boot banner; the host drops it with the next frame and the re-send is answered', async () => {
      const sim = await start({ devices: 1, latencies: { bootMs: 10 } });
      const device = sim.devices[0]!;
      const session = await openSession(device.hostPath);
      await session.identify();
      const { bytesRead, retransmissions } = session.stats;
      await device.reboot();
      const banner = bootBanner(device.state.identity);
      // The banner crosses the paced UART while no request waits; the host only buffers it.
      await new Promise((resolve) => setTimeout(resolve, (banner.length * 10_000) / BAUD + 50));
      expect(session.stats.bytesRead - bytesRead).toBe(banner.length);
      expect(session.stats.decoder.framesAccepted).toBe(1);
      // INFO's answer arrives glued to the banner (no 0x00 between them, PROTOCOL.md §2.3): a
      // damaged frame, so the host sends INFO again at once and takes the replayed answer.
      expect((await session.identify()).serialNumber).toBe('SIM000001');
      expect(session.stats.retransmissions - retransmissions).toBe(1);
      expect(damagedFrames(session.stats.decoder)).toBe(1);
    });

    it('a boot banner of "" boots silently', async () => {
      const sim = await start({ devices: 1, latencies: { bootMs: 10 }, bootBanner: '' });
      const device = sim.devices[0]!;
      const session = await openSession(device.hostPath);
      await session.identify();
      await device.reboot();
      expect((await session.identify()).serialNumber).toBe('SIM000001');
      expect(damagedFrames(session.stats.decoder)).toBe(0);
    });

    it('a stalled device answers nothing until the stall is cleared', async () => {
      const sim = await start({ devices: 1 });
      const device = sim.devices[0]!;
      const session = await openSession(device.hostPath);
      device.faults.stall('forever');
      await expect(session.identify({ timeoutMs: 150, retries: 0 })).rejects.toMatchObject({
        code: 'WIRE_TIMEOUT',
      });
      expect(device.stats.lostInStall).toBeGreaterThan(0);
      device.faults.clearStall();
      expect((await session.identify()).serialNumber).toBe('SIM000001');
    });
  },
);
