/**
 * Helpers for the line engine's tests (never used at run time): a throw-away CA per test file,
 * product profiles, secret sealing that tests can open again, the in-memory recorder, and
 * waits on named events (never sleeps).
 */
import { randomBytes } from 'node:crypto';
import { rename, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, vi } from 'vitest';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { sealedText } from '../../../certs/custody/secretBox.js';
import {
  Simulator,
  type SimulatedDevice,
  type SimulatorOptions,
} from '../../../firmware-bridge/simulator/simulator.js';
import {
  DeviceSession,
  type SessionOptions,
} from '../../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../../firmware-bridge/transports/openTransport.js';
import type { TypedEvent } from '../../../firmware-bridge/typedEvent.js';
import { createDemoCa, type DemoCa } from '../../demo/demoCa.js';
import { InMemoryRunRecorder } from '../../demo/inMemoryRunRecorder.js';
import {
  productProfileSchema,
  type ProductProfile,
  type ProductProfileInput,
} from '../../profiles/productProfile.js';
import type { AttestationServices, SealSecret } from '../attestation/attestor.js';
import { Line, type LineOptions, type RunEnded } from '../line.js';
import { leafProfileOf } from '../productLeafProfile.js';
import { PortWatcher } from '../portWatcher.js';
import type { SlotView } from '../lineTypes.js';
import { runProvisioning, type RunOutcome } from '../provisioningRun.js';

export { InMemoryRunRecorder };

export const TEST_SCOPE = '0ne0000AB12';

let sharedCa: Promise<DemoCa> | undefined;

/** One throw-away station CA per test file, removed after the file's tests. */
/**
 * A starter of one simulated device on a pty (unpaced) per test, stopped after each test. Call
 * it at the top level of a test file: it registers an afterEach hook.
 */
export function oneSimulatedDevicePerTest(): (
  options?: Partial<SimulatorOptions>,
) => Promise<SimulatedDevice> {
  let simulator: Simulator | undefined;
  afterEach(async () => {
    await simulator?.stop();
    simulator = undefined;
  });
  return async (options = {}) => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0, ...options });
    return simulator.devices[0]!;
  };
}

export function testCa(): Promise<DemoCa> {
  if (!sharedCa) {
    const created = createDemoCa('Line Station LINE TEST');
    sharedCa = created;
    afterAll(async () => (await created).dispose());
  }
  return sharedCa;
}

/** A valid profile for the simulator's model; `overrides` replace top-level fields. */
export function testProfile(overrides: Partial<ProductProfileInput> = {}): ProductProfile {
  return productProfileSchema.parse({
    name: 'TEST product',
    models: ['LS-DEMO-1'],
    dps: { idScope: TEST_SCOPE },
    attestation: { mode: 'x509-device-key' },
    ...overrides,
  });
}

/** Sealing with a cheap scrypt, plus the matching open, so tests can check what was sealed. */
export function testSealing(): {
  seal: SealSecret;
  open(json: string, context: string): Promise<Buffer>;
} {
  const wrapper = new PassphraseKeyWrapper(randomBytes(12).toString('hex'), {
    scrypt: { N: 2 ** 10, r: 8, p: 1 },
  });
  return sealedText(wrapper);
}

export async function testServices(
  profile: ProductProfile,
  extra: Partial<AttestationServices> = {},
): Promise<AttestationServices> {
  return {
    ca: (await testCa()).ca,
    leafProfile: leafProfileOf(profile),
    sealSecret: testSealing().seal,
    ...extra,
  };
}

/** Runs one provisioning run on a simulated device on a session of its own, as a slot would. */
export async function runOn(
  device: SimulatedDevice,
  options: {
    profile: ProductProfile;
    recorder: InMemoryRunRecorder;
    services: AttestationServices;
    signal?: AbortSignal;
    sessionOptions?: SessionOptions;
  },
): Promise<RunOutcome> {
  let session: DeviceSession | undefined;
  try {
    return await runProvisioning({
      port: device.hostPath,
      profile: options.profile,
      recorder: options.recorder,
      services: options.services,
      session: async () =>
        (session = await DeviceSession.open(
          createTransport(device.hostPath),
          options.sessionOptions ?? {},
        )),
      ...(options.signal && { signal: options.signal }),
    });
  } finally {
    await session?.close();
  }
}

/** The code a run ended with, or PASS; undefined when no run ended. */
export function codeOf(ended: RunEnded | undefined): string | undefined {
  if (!ended) return undefined;
  return ended.outcome.state === 'pass' ? 'PASS' : ended.outcome.error.code;
}

/** The next run that ends on `line` within `ms`, or undefined when none does. */
export function nextRunEnd(line: Line, ms = 10_000): Promise<RunEnded | undefined> {
  return within(ms, nextEvent(line.onRunEnded));
}

/** Each run's result by slot: `PASS`, or the error code it failed with. */
export function resultBySlot(runs: readonly RunEnded[]): Record<number, string> {
  return Object.fromEntries(
    runs.map((r) => [r.slot, r.outcome.state === 'pass' ? 'PASS' : r.outcome.error.code]),
  );
}

/** Resolves with the first value `event` emits that satisfies `match`. */
export function nextEvent<T>(
  event: TypedEvent<T>,
  match: (value: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const dispose = event.on((value) => {
      if (!match(value)) return;
      dispose();
      resolve(value);
    });
  });
}

/** Resolves once `count` values matching `match` were emitted, with all of them. */
export function events<T>(
  event: TypedEvent<T>,
  count: number,
  match: (value: T) => boolean = () => true,
): Promise<T[]> {
  const seen: T[] = [];
  return new Promise((resolve) => {
    const dispose = event.on((value) => {
      if (!match(value)) return;
      seen.push(value);
      if (seen.length === count) {
        dispose();
        resolve(seen);
      }
    });
  });
}

/** A slot reached one of `states`. */
export function slotReaches(
  onSlotChanged: TypedEvent<SlotView>,
  slot: number,
  ...states: SlotView['state'][]
): Promise<SlotView> {
  return nextEvent(onSlotChanged, (view) => view.slot === slot && states.includes(view.state));
}

/**
 * Resolves with the path of the next port a line's watcher hears hang up (`PortWatcher.lost`),
 * or undefined when none does within `ms`: a line that does not hold the port never hears it,
 * and the test then fails on what the slot shows instead of hanging. The call itself runs.
 */
export function nextLost(ms: number): Promise<string | undefined> {
  const original = PortWatcher.prototype.lost;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      spy.mockRestore();
      resolve(undefined);
    }, ms);
    const spy = vi.spyOn(PortWatcher.prototype, 'lost').mockImplementation(function (
      this: PortWatcher,
      path: string,
    ) {
      spy.mockRestore();
      clearTimeout(timer);
      original.call(this, path);
      resolve(path);
    });
  });
}

/** `promise`'s value, or undefined when it does not settle within `ms`: a test fails, never hangs. */
export function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The stable by-id link udev keeps for a USB adapter (`<dir>/usb-LS_DEMO-if00`), aimed at
 * `target`; `point` re-aims it in one rename, as udev replaces it when a device is swapped.
 */
export async function byIdLink(
  dir: string,
  target: string,
): Promise<{ port: string; point: (next: string) => Promise<void> }> {
  const port = join(dir, 'usb-LS_DEMO-if00');
  await symlink(target, port);
  const point = async (next: string): Promise<void> => {
    await symlink(next, `${port}.new`);
    await rename(`${port}.new`, port);
  };
  return { port, point };
}

/**
 * A Line on test parts: the test profile and CA, an in-memory recorder, sealing the test can
 * open, no ports and no polling of its own, manual mode; `overrides` replace any of them.
 */
export async function testLine(overrides: Partial<LineOptions> = {}): Promise<Line> {
  return new Line({
    profile: testProfile(),
    ca: (await testCa()).ca,
    recorder: new InMemoryRunRecorder(),
    ports: { configured: [], discover: false, baudRate: 0, pollMs: 60_000 },
    mode: 'manual',
    demo: false,
    sealSecret: testSealing().seal,
    ...overrides,
  });
}

/** Wipes a simulated board's identity with its firmware's own FACTORY_RESET (PROTOCOL.md §4.11). */
export async function factoryReset(hostPath: string): Promise<void> {
  const session = await DeviceSession.open(createTransport(hostPath), {});
  try {
    await session.request('FACTORY_RESET', { confirm: 'ERASE' });
  } finally {
    await session.close();
  }
}
