import { mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { Line, type LineOptions } from './line.js';
import { PortWatcher } from './portWatcher.js';
import {
  events,
  InMemoryRunRecorder,
  resultBySlot,
  slotReaches,
  testCa,
  testProfile,
  testSealing,
} from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await line?.stop();
  await simulator?.stop();
  line = undefined;
  simulator = undefined;
});

/**
 * Resolves with the arguments of the watcher's next `method` call (a line's own watcher), once
 * what the call returns has settled; the method itself runs as usual.
 */
function nextWatcherCall(method: 'release' | 'scan'): Promise<unknown[]> {
  const original = PortWatcher.prototype[method] as (...args: unknown[]) => unknown;
  return new Promise((resolve) => {
    const spy = vi.spyOn(PortWatcher.prototype, method);
    spy.mockImplementation(function (this: PortWatcher, ...args: unknown[]) {
      spy.mockRestore();
      const result = original.apply(this, args);
      void Promise.resolve(result).finally(() => resolve(args));
      return result;
    } as never);
  });
}

async function startLine(
  configured: string[],
  options: Partial<Omit<LineOptions, 'ports'>> & { pollMs?: number; profile?: ProductProfile } = {},
) {
  const recorder = new InMemoryRunRecorder();
  line = new Line({
    profile: options.profile ?? testProfile(),
    ca: (await testCa()).ca,
    recorder,
    ports: { configured, discover: false, baudRate: 0, pollMs: options.pollMs ?? 60_000 },
    mode: options.mode ?? 'auto',
    demo: false,
    sealSecret: testSealing().seal,
    // The product's own timeouts: a test of passing devices must not fail on a loaded machine.
    sessionOptions: options.sessionOptions ?? { retries: 1 },
  });
  await line.start();
  const ended = (count: number) => events(line!.onRunEnded, count);
  return { line, recorder, ended };
}

describe('the line in auto mode', () => {
  it('provisions four devices in parallel: four PASS, four commits, the outbox says four', async () => {
    simulator = await Simulator.start({ devices: 4, link: 'pty', baudRate: 0 });
    const ports = simulator.devices.map((d) => d.hostPath);
    const { line, recorder, ended } = await startLine(ports, { mode: 'manual' });
    // A subscriber that throws must neither fail a run nor silence the subscribers after it.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    let thrown = 0;
    line.onSlotChanged.on((view) => {
      // Once, mid-run (as the first device reaches attest), to keep the test output quiet.
      if (view.step !== 'attest' || thrown++ > 0) return;
      throw new Error('faulty subscriber');
    });
    const outbox = events(line.onOutboxChanged, 4);
    const all = ended(4);
    line.setMode('auto');
    const runs = await all;
    process.off('warning', onWarning);
    expect(warnings.some((w) => w.message === 'faulty subscriber')).toBe(true);

    expect(resultBySlot(runs)).toEqual({ 1: 'PASS', 2: 'PASS', 3: 'PASS', 4: 'PASS' });
    expect(recorder.passes).toHaveLength(4);
    expect((await outbox).at(-1)?.pending).toBe(4);
    expect(line.slots().map((s) => [s.slot, s.port, s.state, s.registrationId])).toEqual(
      simulator.devices.map((d, i) => [
        i + 1,
        d.hostPath,
        'pass',
        `ls-demo-1-${d.serialNumber.toLowerCase()}`,
      ]),
    );
    for (const device of simulator.devices) expect(device.state.identityState).toBe(1);
  });

  it('one unplugged, one stalled device fail alone; the others pass; failures name their certificate', async () => {
    simulator = await Simulator.start({ devices: 5, link: 'pty', baudRate: 0 });
    const [, unplugEarly, unplugLate, stalled] = simulator.devices;
    const unplugged = Promise.all([
      unplugEarly!.faults.unplugDuringNext('GEN_KEY_CSR'),
      unplugLate!.faults.unplugDuringNext('PUT_CERT_CHAIN'),
    ]);
    stalled!.onRequest.on((e) => {
      if (e.name === 'PUT_CERT_CHAIN') stalled!.faults.stall('forever');
    });
    // Short timeouts, so the stalled device's run ends soon; a fifth of the product's leaves
    // the passing devices room on a loaded machine (INFO 100 ms, PUT_CERT_CHAIN 1 s).
    const { line, recorder, ended } = await startLine(
      simulator.devices.map((d) => d.hostPath),
      { mode: 'manual', sessionOptions: { timeoutScale: 0.2, retries: 1 } },
    );
    const all = ended(5);
    line.setMode('auto');
    const runs = await all;
    await unplugged;

    expect(resultBySlot(runs)).toEqual({
      1: 'PASS',
      2: 'WIRE_DISCONNECTED',
      3: 'WIRE_DISCONNECTED',
      4: 'WIRE_TIMEOUT',
      5: 'PASS',
    });
    expect(recorder.passes.map((p) => p.device.serialNumber).sort()).toEqual([
      'SIM000001',
      'SIM000005',
    ]);
    const failureOf = (serial: string) =>
      recorder.failures.find((f) => f.device?.serialNumber === serial)!;
    const { ca } = await testCa();
    const serialFor = async (id: string) =>
      (await ca.list({ registrationId: id }))[0]?.serialNumber;
    // Unplugged before issuance: no certificate to abandon.
    expect(failureOf('SIM000002').certificateSerial).toBeUndefined();
    expect(failureOf('SIM000003').certificateSerial).toBe(await serialFor('ls-demo-1-sim000003'));
    expect(failureOf('SIM000004').certificateSerial).toBe(await serialFor('ls-demo-1-sim000004'));
    expect(failureOf('SIM000004').steps.at(-1)?.step).toBe('configure');
    for (const device of [unplugEarly!, unplugLate!, stalled!]) {
      expect(device.state.identityState).toBe(0);
    }

    // The unplugged ports are gone now; their slots keep showing why they failed.
    await line.rescan();
    const views = line.slots();
    expect(views[1]).toMatchObject({ state: 'fail', error: { code: 'WIRE_DISCONNECTED' } });
    expect(views[2]).toMatchObject({ state: 'fail', serialNumber: 'SIM000003' });
  });

  it('a configured port waits until it appears, is provisioned once, and again only after a replug', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'line-port-'));
    const port = join(dir, 'ttyFIXTURE0');
    try {
      const { line, recorder } = await startLine([port], {
        profile: testProfile({ duplicates: 'reprovision' }),
      });
      expect(line.slots()).toMatchObject([{ slot: 1, port, state: 'empty' }]);

      const firstPass = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      await symlink(simulator.devices[0]!.hostPath, port);
      await line.rescan();
      expect((await firstPass).state).toBe('pass');
      // Still plugged: further polls must not start the same device again.
      await line.rescan();
      await line.rescan();
      expect(recorder.runs).toHaveLength(1);
      expect(line.slots()[0]!.state).toBe('pass');

      await unlink(port);
      await line.rescan();
      expect(line.slots()[0]!.state).toBe('pass');
      const secondPass = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      await symlink(simulator.devices[0]!.hostPath, port);
      await line.rescan();
      expect((await secondPass).state).toBe('pass');
      expect(recorder.runs).toHaveLength(2);
      expect(recorder.runs[1]!.supersedes?.runId).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the line and the ports it holds open', () => {
  it('notices the unplug of a port it stopped polling, by the hang-up, and provisions the replug', async () => {
    simulator = await Simulator.start({
      devices: 1,
      link: 'pty',
      baudRate: 0,
      latencies: { bootMs: 0 },
    });
    const device = simulator.devices[0]!;
    const dir = await mkdtemp(join(tmpdir(), 'line-held-'));
    // A by-id link, as udev keeps one per USB adapter: the same name after every replug.
    const port = join(dir, 'usb-LS_DEMO-if00');
    try {
      await symlink(device.hostPath, port);
      const { line, recorder } = await startLine([port], {
        profile: testProfile({ duplicates: 'reprovision' }),
        pollMs: 50,
      });
      expect((await slotReaches(line.onSlotChanged, 1, 'pass', 'fail')).state).toBe('pass');
      // The passed session stays open, so the watcher holds the port and stops polling. Only
      // the hang-up of the open tty can tell the line that the device went, with no rescan.
      const released = nextWatcherCall('release');
      await device.faults.unplug();
      expect(await released).toEqual([port]);
      // The watcher polls again and finds the link dangling: the port is gone.
      await nextWatcherCall('scan');
      const newPath = await device.faults.replug(); // resolves once the device has booted
      const secondPass = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      await unlink(port);
      await symlink(newPath, port);
      expect((await secondPass).state).toBe('pass');
      expect(recorder.runs).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('re-arms the slot when a held port hangs up, though the next device is there before the next poll', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [first, second] = simulator.devices;
    const dir = await mkdtemp(join(tmpdir(), 'line-swap-'));
    // A by-id link that a quick swap re-points to the next device's tty.
    const port = join(dir, 'usb-LS_DEMO-if00');
    try {
      await symlink(first!.hostPath, port);
      const { line, recorder } = await startLine([port]); // pollMs 60 s: no poll of its own
      expect((await slotReaches(line.onSlotChanged, 1, 'pass', 'fail')).state).toBe('pass');
      const released = nextWatcherCall('release');
      await first!.faults.unplug();
      expect(await released).toEqual([port]);
      await unlink(port);
      await symlink(second!.hostPath, port);
      const passed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
      // The first poll after the swap finds the path there, as it was before the unplug.
      await line.rescan();
      expect(line.slots()[0]).toMatchObject({ state: 'running' });
      expect(line.slots()[0]!.serialNumber).toBeUndefined();
      expect(await passed).toMatchObject({ state: 'pass', serialNumber: second!.serialNumber });
      expect(recorder.runs).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the line in manual mode', () => {
  it('shows a device that comes and goes without a run as waiting, then the port as empty again', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'line-port-'));
    const port = join(dir, 'ttyFIXTURE1');
    try {
      const { line, recorder } = await startLine([port], { mode: 'manual' });
      expect(line.slots()[0]!.state).toBe('empty');
      await symlink(simulator.devices[0]!.hostPath, port);
      await line.rescan();
      expect(line.slots()[0]!.state).toBe('waiting');
      await unlink(port);
      await line.rescan();
      expect(line.slots()[0]!.state).toBe('empty');
      expect(() => line.provision(1)).toThrow(
        expect.objectContaining({ code: 'LINE_PORT_ABSENT' }),
      );
      expect(recorder.runs).toHaveLength(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs only on provision(slot); cancel ends a run; refuse re-provisioning a passed device', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const { line, recorder } = await startLine(
      simulator.devices.map((d) => d.hostPath),
      {
        mode: 'manual',
      },
    );
    expect(line.slots().map((s) => s.state)).toEqual(['waiting', 'waiting']);
    expect(line.status()).toMatchObject({ mode: 'manual', demo: false, profile: 'TEST product' });
    expect(() => line.provision(3)).toThrow(expect.objectContaining({ code: 'LINE_SLOT_UNKNOWN' }));

    const passed = slotReaches(line.onSlotChanged, 1, 'pass', 'fail');
    line.provision(1);
    expect(() => line.provision(1)).toThrow(expect.objectContaining({ code: 'LINE_SLOT_BUSY' }));
    expect((await passed).state).toBe('pass');
    expect(line.slots()[1]!.state).toBe('waiting');

    const refused = slotReaches(line.onSlotChanged, 1, 'fail', 'pass');
    line.provision(1);
    expect(await refused).toMatchObject({ state: 'fail', error: { code: 'RUN_DUPLICATE_DEVICE' } });

    const attesting = slotReaches(line.onSlotChanged, 2, 'running');
    const cancelled = slotReaches(line.onSlotChanged, 2, 'cancelled', 'pass', 'fail');
    const attestStep = new Promise<void>((resolve) => {
      const dispose = line.onSlotChanged.on((view) => {
        if (view.slot === 2 && view.step === 'attest') {
          dispose();
          line.cancel(2);
          resolve();
        }
      });
    });
    line.provision(2);
    await attesting;
    await attestStep;
    expect(await cancelled).toMatchObject({ state: 'cancelled', error: { code: 'RUN_CANCELLED' } });
    expect(recorder.failures.at(-1)).toMatchObject({ state: 'cancelled' });
    expect(simulator.devices[1]!.state.identityState).toBe(0);
  });

  it('says in its status when a TPM line has no vendor CAs to check EK certificates against', async () => {
    const { line } = await startLine([], {
      profile: testProfile({ attestation: { mode: 'tpm' } }),
    });
    expect(line.status().notes.join(' ')).toMatch(
      /No TPM vendor CA certificates on this station: every TPM device fails\./,
    );
    expect(line.status().ca).toMatchObject({ unused: true });
  });

  it('says a symmetric-key line uses no CA, where an X.509 line shows its CA', async () => {
    const symmetric = await startLine([], {
      profile: testProfile({ attestation: { mode: 'symmetric-key-individual' } }),
    });
    expect(symmetric.line.status().ca).toMatchObject({ unused: true });
    await symmetric.line.stop();
    const x509 = await startLine([], { profile: testProfile() });
    expect(x509.line.status().ca.unused).toBeUndefined();
  });
});
