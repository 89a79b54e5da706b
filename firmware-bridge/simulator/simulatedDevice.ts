import type { DecoderStats } from '../codec/frameDecoder.js';
import { TypedEvent } from '../typedEvent.js';
import { DeviceEndpoint, type EndpointStats, type RequestEvent } from './deviceEndpoint.js';
import { DeviceFirmware, type FirmwareConfig } from './deviceFirmware.js';
import type { DeviceLatencies } from './deviceLatencies.js';
import type { DeviceLink } from './deviceLink.js';
import type { DeviceState, DeviceStateView } from './deviceState.js';
import { DeviceFaults, type FaultTarget } from './faults.js';
import { LinkPacer } from './linkPacer.js';

const BANNER_ENCODER = new TextEncoder();

export interface SimulatedDeviceOptions {
  index: number;
  state: DeviceState;
  link: DeviceLink;
  latencies: DeviceLatencies;
  firmware?: Partial<FirmwareConfig>;
  /** Line rate the pacers model; 0 or undefined for an unpaced link. */
  baudRate?: number;
  seed: number;
  /**
   * Text the firmware prints on the port each time it boots after a reboot or replug, before it
   * listens (PROTOCOL.md §2.3); default bootBanner(identity). Empty: a silent boot.
   */
  bootBanner?: string;
}

/**
 * What a real MCU prints at reset (ROM bootloader, RTOS log) on the port it then speaks the
 * protocol on: plain text, no 0x00, so it reaches the host glued to the device's next frame.
 */
export function bootBanner(identity: { model: string; firmwareVersion: string }): string {
  return `\r\nLS-SIM ${identity.model} boot: rst=poweron\r\nfirmware ${identity.firmwareVersion}\r\nready\r\n`;
}

/**
 * One virtual device on its link: the host's bytes cross a paced UART (with optional damage)
 * into the endpoint, answers cross back the same way. Owns the power state: plugged, booting,
 * up.
 *
 *   link ─► rx pacer ─► [unplugged / booting / stalled: lost] ─► rx damage ─► endpoint
 *   endpoint ─► [stalled: lost] ─► tx damage ─► tx pacer ─► link
 */
export class SimulatedDevice {
  readonly serialNumber: string;
  readonly faults: DeviceFaults;
  /** Fires when the device has executed and answered a request. */
  readonly onRequest: TypedEvent<RequestEvent>;
  /** The link lost without a fault injected (socat killed from outside, tty error). */
  readonly onLinkLost: TypedEvent<Error>;
  readonly index: number;
  private readonly endpoint: DeviceEndpoint;
  private readonly rxPacer: LinkPacer;
  private readonly txPacer: LinkPacer;
  private powered = true;
  private bootDone: Promise<void> = Promise.resolve();
  private bootTimer: NodeJS.Timeout | undefined;
  private finishBoot: (() => void) | undefined;

  constructor(private readonly options: SimulatedDeviceOptions) {
    const { state, link, latencies, baudRate } = options;
    this.index = options.index;
    this.serialNumber = state.identity.serialNumber;
    const target: FaultTarget = {
      unplug: () => this.unplug(),
      replug: () => this.replug(),
      reboot: () => this.powerCycle(),
      booted: () => this.bootDone,
    };
    // Before the firmware: some faults (a truncated EK certificate) strike inside it.
    this.faults = new DeviceFaults(target, options.seed);
    this.endpoint = new DeviceEndpoint({
      firmware: new DeviceFirmware(state, options.firmware, this.faults),
      latencies,
      transmit: (bytes, readyAt) => this.transmit(bytes, readyAt),
    });
    this.onRequest = this.endpoint.onRequest;
    this.onLinkLost = link.onLost;
    this.endpoint.onRequestStart.on(({ name }) => this.faults.requestStarting(name));
    this.rxPacer = new LinkPacer(baudRate, (bytes, at) => this.deliver(bytes, at));
    this.txPacer = new LinkPacer(baudRate, (bytes) => link.write(bytes));
    link.onData.on((bytes) => this.rxPacer.push(bytes));
    // A link that dies on its own is a pulled cable too: the device loses power with it.
    link.onLost.on(() => this.cutPower());
  }

  /** Where the host opens the device: a tty or `tcp://host:port` (while unplugged: the last). */
  get hostPath(): string {
    return this.options.link.hostPath;
  }

  get linkKind(): 'pty' | 'tcp' {
    return this.options.link.kind;
  }

  get isPlugged(): boolean {
    return this.options.link.isPlugged;
  }

  /** A snapshot of identity, committed and staged banks, for assertions. */
  get state(): DeviceStateView {
    return this.options.state.view();
  }

  get stats(): { endpoint: EndpointStats; decoder: DecoderStats; lostInStall: number } {
    return {
      endpoint: { ...this.endpoint.stats },
      decoder: structuredClone(this.endpoint.decoder.stats),
      lostInStall: this.faults.lostInStall,
    };
  }

  /** Power cycle; resolves when the device listens again. Same as `faults.reboot()`. */
  reboot(): Promise<void> {
    return this.faults.reboot();
  }

  /** Brings the link up for the first time; the device starts powered and booted. */
  async start(): Promise<void> {
    await this.options.link.plug();
  }

  /** Unplugs for good; the simulator calls it on stop(). */
  async stop(): Promise<void> {
    this.faults.dispose();
    this.cutPower();
    clearTimeout(this.bootTimer);
    this.finishBoot?.();
    await this.options.link.dispose();
  }

  private async unplug(): Promise<void> {
    this.cutPower();
    await this.options.link.unplug();
  }

  private async replug(): Promise<string> {
    const hostPath = await this.options.link.plug();
    this.powerOn();
    return hostPath;
  }

  /** Reboot on the same link: off, then on at once. */
  private powerCycle(): void {
    this.cutPower();
    this.powerOn();
  }

  /** RAM is gone at once: staged bank, transfer, cache, work in flight, bytes in the FIFOs. */
  private cutPower(): void {
    this.powered = false;
    this.options.state.reboot();
    this.endpoint.reset();
    this.rxPacer.clear();
    this.txPacer.clear();
  }

  /** The firmware is deaf for bootMs, then listens. */
  private powerOn(): void {
    clearTimeout(this.bootTimer);
    this.finishBoot?.();
    this.powered = false;
    this.bootDone = new Promise<void>((resolve) => {
      this.finishBoot = () => {
        this.finishBoot = undefined;
        resolve();
      };
      this.bootTimer = setTimeout(() => {
        this.powered = true;
        this.printBanner();
        this.finishBoot?.();
      }, this.options.latencies.bootMs);
    });
  }

  private printBanner(): void {
    const banner = this.options.bootBanner ?? bootBanner(this.options.state.identity);
    if (banner === '' || !this.options.link.isPlugged || this.faults.isStalled) return;
    this.txPacer.push(this.faults.tx.apply(BANNER_ENCODER.encode(banner)));
  }

  private deliver(bytes: Uint8Array, arrivedAt: number): void {
    if (!this.powered || !this.options.link.isPlugged) return;
    if (this.faults.isStalled) {
      this.faults.lostInStall += bytes.length;
      return;
    }
    this.endpoint.receive(this.faults.rx.apply(bytes), arrivedAt);
  }

  private transmit(bytes: Uint8Array, readyAt: number): void {
    if (!this.powered || this.faults.isStalled) return;
    this.txPacer.push(this.faults.tx.apply(bytes), readyAt);
  }
}
