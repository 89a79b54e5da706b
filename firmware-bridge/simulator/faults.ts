import type { MessageName } from '../codec/messages.js';
import { TypedEvent } from '../typedEvent.js';
import { ByteFaultInjector, type ByteFaultCounts, type ByteFaultRates } from './byteFaults.js';
import type { FirmwareFaults } from './deviceFirmware.js';

/** Which way damaged bytes travel: `rx` toward the device, `tx` toward the host. */
export type FaultDirection = 'rx' | 'tx' | 'both';

export interface FaultEvent {
  kind: 'unplug' | 'replug' | 'reboot' | 'booted' | 'stall' | 'stallCleared';
  /** For faults armed with unplugDuringNext / rebootDuringNext: the request they cut. */
  during?: MessageName | 'UNKNOWN';
  /** For `replug`: where the host finds the device now. */
  hostPath?: string;
}

/** What fault injection needs from a device; SimulatedDevice implements it. */
export interface FaultTarget {
  /** Cuts link and power. Resets the device synchronously, before the promise settles. */
  unplug(): Promise<void>;
  /** Brings up a new link and powers the device on; resolves with the host path when open. */
  replug(): Promise<string>;
  /** Power cycle on the same link. Resets the device synchronously. */
  reboot(): void;
  /** Resolves when the device has finished booting (at once when it is up). */
  booted(): Promise<void>;
}

interface ArmedFault {
  name: MessageName;
  action: 'unplug' | 'reboot' | 'stall';
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** TPM_PT_NV_BUFFER_MAX of the TCG reference implementation: the most one TPM2_NV_Read returns. */
export const NV_BUFFER_MAX = 1024;

/**
 * Fault injection for one device, switchable at runtime: byte damage per direction with a
 * seeded PRNG, stalls, unplug/replug, reboot, faults armed to strike when a given request
 * starts executing, and firmware faults (a truncated EK certificate).
 */
export class DeviceFaults implements FirmwareFaults {
  readonly onFault = new TypedEvent<FaultEvent>();
  /** Damage to bytes the device receives. */
  readonly rx: ByteFaultInjector;
  /** Damage to bytes the device sends. */
  readonly tx: ByteFaultInjector;
  /** Bytes that arrived while the device was stalled, lost like a UART overrun. */
  lostInStall = 0;
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private armed: ArmedFault[] = [];
  private ekReadLimit: number | undefined;

  constructor(
    private readonly target: FaultTarget,
    seed: number,
  ) {
    // Separate streams: how rx and tx interleave in time must not change either one's damage.
    this.rx = new ByteFaultInjector(seed);
    this.tx = new ByteFaultInjector(seed ^ 0x9e3779b9);
  }

  setByteFaults(rates: Partial<ByteFaultRates>, direction: FaultDirection = 'both'): void {
    if (direction !== 'tx') this.rx.set(rates);
    if (direction !== 'rx') this.tx.set(rates);
  }

  clearByteFaults(): void {
    this.setByteFaults({ drop: 0, corrupt: 0, duplicate: 0 });
  }

  get byteFaultCounts(): { rx: ByteFaultCounts; tx: ByteFaultCounts } {
    return { rx: { ...this.rx.counts }, tx: { ...this.tx.counts } };
  }

  /**
   * The firmware hangs: it takes in nothing (bytes arriving meanwhile are lost, like a UART
   * overrun) and sends nothing until the stall ends. A request already executing finishes, but
   * its answer is lost; a host retry after the stall is answered from the response cache.
   */
  stall(duration: number | 'forever'): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (duration === 'forever') {
      this.stalledUntil = Number.POSITIVE_INFINITY;
    } else {
      if (!Number.isFinite(duration) || duration < 0) throw new RangeError(`stall ${duration}`);
      this.stalledUntil = Date.now() + duration;
      this.stallTimer = setTimeout(() => this.clearStall(), duration);
    }
    this.onFault.emit({ kind: 'stall' });
  }

  clearStall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (this.stalledUntil === 0) return;
    this.stalledUntil = 0;
    this.onFault.emit({ kind: 'stallCleared' });
  }

  get isStalled(): boolean {
    return this.stalledUntil !== 0 && Date.now() < this.stalledUntil;
  }

  /**
   * A firmware that reads the EK certificate out of the TPM's NV index with one TPM2_NV_Read,
   * which returns at most TPM_PT_NV_BUFFER_MAX bytes, instead of looping: from now on GET_EK
   * hands out only the certificate's first `bytes`. The answer is well framed, with good CRCs
   * and a valid CBOR message, so only a host that parses the DER notices. A certificate no
   * longer than `bytes` is unaffected; so is a device without one.
   */
  truncateEkCertificate(bytes = NV_BUFFER_MAX): void {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`EK certificate read limit must be an integer ≥ 0, got ${bytes}`);
    }
    this.ekReadLimit = bytes;
  }

  clearEkCertificateTruncation(): void {
    this.ekReadLimit = undefined;
  }

  /** Bytes of the EK certificate GET_EK hands out; undefined while it hands out all of it. */
  get ekCertificateReadLimit(): number | undefined {
    return this.ekReadLimit;
  }

  /** Pulls the cable: the host's port goes away and the device loses power. */
  async unplug(during?: MessageName): Promise<void> {
    await this.target.unplug();
    this.onFault.emit(during ? { kind: 'unplug', during } : { kind: 'unplug' });
  }

  /**
   * Plugs the device back in: a new link (for a pty, a new path) and a fresh boot. Resolves
   * with the host path once the device has booted.
   */
  async replug(): Promise<string> {
    const hostPath = await this.target.replug();
    this.onFault.emit({ kind: 'replug', hostPath });
    await this.target.booted();
    this.onFault.emit({ kind: 'booted' });
    return hostPath;
  }

  /** Power cycle: staged state, the request in flight and the response cache are lost. */
  async reboot(during?: MessageName): Promise<void> {
    this.target.reboot();
    this.onFault.emit(during ? { kind: 'reboot', during } : { kind: 'reboot' });
    await this.target.booted();
    this.onFault.emit({ kind: 'booted' });
  }

  /** Unplugs when the next `name` request starts executing; resolves once it is unplugged. */
  unplugDuringNext(name: MessageName): Promise<void> {
    return this.arm(name, 'unplug');
  }

  /** Reboots when the next `name` request starts executing; resolves once it has booted. */
  rebootDuringNext(name: MessageName): Promise<void> {
    return this.arm(name, 'reboot');
  }

  /**
   * Hangs for good when the next `name` request starts executing: the request still completes
   * (a COMMIT persists), but its answer is lost. Resolves once the stall began.
   */
  stallDuringNext(name: MessageName): Promise<void> {
    return this.arm(name, 'stall');
  }

  /** Called by the device as a request starts executing; fires an armed fault synchronously. */
  requestStarting(name: MessageName | 'UNKNOWN'): void {
    const i = this.armed.findIndex((a) => a.name === name);
    if (i === -1) return;
    const fault = this.armed.splice(i, 1)[0]!;
    if (fault.action === 'stall') {
      this.stall('forever');
      fault.resolve();
      return;
    }
    const done = fault.action === 'unplug' ? this.unplug(fault.name) : this.reboot(fault.name);
    done.then(fault.resolve, fault.reject);
  }

  /** Disarms everything; pending arm promises reject. */
  dispose(): void {
    this.clearStall();
    for (const fault of this.armed.splice(0)) {
      fault.reject(new Error(`${fault.action} during ${fault.name}: device stopped first`));
    }
  }

  private arm(name: MessageName, action: ArmedFault['action']): Promise<void> {
    return new Promise((resolve, reject) => this.armed.push({ name, action, resolve, reject }));
  }
}
