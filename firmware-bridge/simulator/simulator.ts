import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceFeatures } from '../codec/messages.js';
import { DEFAULT_FEATURES, type FirmwareConfig, type TpmContents } from './deviceFirmware.js';
import { resolveLatencies, type DeviceLatencies } from './deviceLatencies.js';
import type { DeviceLink } from './deviceLink.js';
import { DeviceState } from './deviceState.js';
import { PtyLink } from './ptyLink.js';
import { SimulatedDevice } from './simulatedDevice.js';
import { TcpLink } from './tcpLink.js';

/** A device of the bench as the `tpm` option sees it, before it exists. */
export interface DeviceSlot {
  /** 0-based position in the bench. */
  index: number;
  serialNumber: string;
}

/**
 * Hands each device its TPM contents (made elsewhere: a TPM simulator, a chip's dump, test
 * bytes), or undefined for a device without a TPM. May read files: it is awaited.
 */
export type TpmProvider = (
  device: DeviceSlot,
) => TpmContents | undefined | Promise<TpmContents | undefined>;

export interface SimulatorOptions {
  devices: number;
  /** `pty`: each device on its own socat pty pair; `tcp`: each on its own listening socket. */
  link: 'pty' | 'tcp';
  /** UART rate the link is paced at (8N1). Default 115200; 0 = unpaced. */
  baudRate?: number;
  latencies?: Partial<DeviceLatencies>;
  /** Where the devices' flash files live; default a fresh directory under the OS temp dir. */
  stateDir?: string;
  features?: Partial<DeviceFeatures>;
  maxFrame?: number;
  maxMessage?: number;
  /** Default 'LS-DEMO-1'. */
  model?: string;
  hardwareRevision?: string;
  firmwareVersion?: string;
  /** Serial numbers are prefix + 6-digit index from 1: `SIM000001`. Default 'SIM'. */
  serialPrefix?: string;
  /**
   * The TPM each device carries, asked once per device before any device starts (an error
   * fails the start). A device given contents announces a TPM and answers GET_EK with them;
   * one given undefined has none. An explicit `features.tpm` that contradicts a device's
   * contents fails the start.
   */
  tpm?: TpmProvider;
  /** PUT_PRIVATE_KEY answers LOCKED when an identity key is committed. */
  lockCommittedIdentity?: boolean;
  /** Seed of the fault-injection PRNGs; each device derives its own. Default 1. */
  seed?: number;
  /** Address the TCP listeners bind; default loopback, never other interfaces by default. */
  tcpHost?: string;
  /** What each device prints when it boots after a reboot or replug; '' for silence. */
  bootBanner?: string;
  /** Device i listens on tcpBasePort + i; 0 (default) = an ephemeral port each. */
  tcpBasePort?: number;
}

export const DEFAULT_BAUD_RATE = 115_200;

/**
 * A bench of virtual devices, each on its own tty or TCP port, that behave like firmware:
 * same codec as the host, real key generation and signatures, flash that survives restarts,
 * UART timing, and faults on demand.
 */
export class Simulator {
  private stopped = false;

  private constructor(
    readonly devices: readonly SimulatedDevice[],
    readonly stateDir: string,
    private readonly ownsStateDir: boolean,
  ) {}

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const { devices: count, link } = options;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`devices must be ≥ 1`);
    if (link !== 'pty' && link !== 'tcp') throw new RangeError(`link must be 'pty' or 'tcp'`);
    const prefix = options.serialPrefix ?? 'SIM';
    if (!/^[A-Za-z0-9_-]{0,32}$/.test(prefix)) {
      throw new RangeError('serialPrefix: up to 32 letters, digits, "-" or "_"');
    }
    const basePort = options.tcpBasePort ?? 0;
    if (!Number.isInteger(basePort) || basePort < 0 || basePort + count - 1 > 65_535) {
      throw new RangeError(`tcpBasePort ${basePort} leaves no room for ${count} devices`);
    }
    const baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
    const latencies = resolveLatencies(options.latencies);
    const firmware: Partial<FirmwareConfig> = {
      lockCommittedIdentity: options.lockCommittedIdentity ?? false,
    };
    if (options.maxFrame !== undefined) firmware.maxFrame = options.maxFrame;
    if (options.maxMessage !== undefined) firmware.maxMessage = options.maxMessage;
    const slots: DeviceSlot[] = Array.from({ length: count }, (_, index) => ({
      index,
      serialNumber: `${prefix}${String(index + 1).padStart(6, '0')}`,
    }));
    // Every TPM first: a missing one fails the start before any flash file or link exists.
    const tpms: (TpmContents | undefined)[] = [];
    for (const slot of slots) tpms.push(await options.tpm?.(slot));

    const ownsStateDir = options.stateDir === undefined;
    const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'line-station-sim-')));
    const devices: SimulatedDevice[] = [];
    const simulator = new Simulator(devices, stateDir, ownsStateDir);
    try {
      for (const { index, serialNumber } of slots) {
        const state = await DeviceState.open(stateDir, {
          serialNumber,
          model: options.model ?? 'LS-DEMO-1',
          hardwareRevision: options.hardwareRevision ?? 'A',
          firmwareVersion: options.firmwareVersion ?? '1.0.0-sim',
        });
        const deviceLink: DeviceLink =
          link === 'pty'
            ? new PtyLink(baudRate || DEFAULT_BAUD_RATE)
            : new TcpLink(options.tcpHost ?? '127.0.0.1', basePort === 0 ? 0 : basePort + index);
        devices.push(
          new SimulatedDevice({
            index,
            state,
            link: deviceLink,
            latencies,
            firmware: firmwareWithTpm(firmware, options.features, tpms[index]),
            baudRate,
            // Distinct, repeatable streams per device.
            seed: ((options.seed ?? 1) * 0x9e3779b1 + index) >>> 0,
            ...(options.bootBanner !== undefined && { bootBanner: options.bootBanner }),
          }),
        );
      }
      // Every start must settle before stop() runs: a link still plugging in when stop() looks
      // at it would come up afterwards, and its socat, tty or listener would outlive us.
      const started = await Promise.allSettled(devices.map((device) => device.start()));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } catch (err) {
      await simulator.stop();
      throw err;
    }
    return simulator;
  }

  /** Unplugs every device and releases ttys and ports. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.devices.map((device) => device.stop()));
    if (this.ownsStateDir) await rm(this.stateDir, { recursive: true, force: true });
  }
}

/** One device's firmware config: the bench's, with its own TPM (and the TPM flag to match). */
function firmwareWithTpm(
  firmware: Partial<FirmwareConfig>,
  features: Partial<DeviceFeatures> | undefined,
  tpm: TpmContents | undefined,
): Partial<FirmwareConfig> {
  const config = {
    ...firmware,
    features: { ...DEFAULT_FEATURES, ...features, tpm: features?.tpm ?? tpm !== undefined },
  };
  return tpm === undefined ? config : { ...config, tpm };
}

export type { SimulatedDevice } from './simulatedDevice.js';
export type { TpmContents } from './deviceFirmware.js';
