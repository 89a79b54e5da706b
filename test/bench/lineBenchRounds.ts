/** The line benchmark's driver, which keeps every slot busy, and its one instrument. */
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { Line, RunEnded } from '../../station/line/line.js';

/**
 * Keeps every slot of a line busy, as a running line is: each slot starts its next device as
 * soon as its run ends. Slots start spread over `spreadMs` (about one run), as devices are plugged
 * one after another; started all in the same millisecond, every slot would ask its device for a
 * key in the same millisecond for as long as the devices' latencies stay alike, and the bench
 * would measure that burst rather than a line. Measurements are windows between run endings in
 * this steady state (`next`), with no synchronised start and no tail of idle slots waiting for
 * the last run of a round.
 */
export class LineDriver {
  private readonly waiters: { count: number; runs: RunEnded[]; resolve(runs: RunEnded[]): void }[] =
    [];
  private readonly running = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping: (() => void) | undefined;
  private readonly dispose: () => void;

  constructor(
    private readonly line: Line,
    private readonly slots: number,
    spreadMs: number,
  ) {
    this.dispose = line.onRunEnded.on((run) => this.ended(run));
    for (let slot = 1; slot <= slots; slot++) {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.start(slot);
        },
        (spreadMs * (slot - 1)) / slots,
      );
      this.timers.add(timer);
    }
  }

  /** Resolves with the next `count` runs to end, when the last of them ends. */
  next(count: number): Promise<RunEnded[]> {
    return new Promise((resolve) => this.waiters.push({ count, runs: [], resolve }));
  }

  /** Starts no more runs; resolves once every slot's run in flight has ended. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => (this.stopping = resolve));
    }
    this.dispose();
  }

  private start(slot: number): void {
    this.running.add(slot);
    this.line.provision(slot);
  }

  private ended(run: RunEnded): void {
    this.running.delete(run.slot);
    const waiter = this.waiters[0];
    if (waiter) {
      waiter.runs.push(run);
      if (waiter.runs.length === waiter.count) {
        this.waiters.shift();
        waiter.resolve(waiter.runs);
      }
    }
    if (this.stopping) {
      if (this.running.size === 0) this.stopping();
      return;
    }
    if (run.slot <= this.slots) this.start(run.slot);
  }
}

/**
 * Sums, per port, the time its session spends inside request() (on the wire and in the device)
 * until stop(); the rest of a run's duration is the station's own time. Runs on one port never
 * overlap, so `take(port)` when a run ends returns that run's time in requests. A bench-only
 * instrument: it wraps DeviceSession.prototype.request and puts it back on stop().
 */
export interface RequestTimer {
  /** The time in requests on `port` since its last take, and a fresh count for it. */
  take(port: string): number;
  /** Forgets every port's count (a new measurement starts). */
  reset(): void;
  /** Puts DeviceSession.prototype.request back. */
  stop(): void;
}

export function timeInRequests(): RequestTimer {
  const original = DeviceSession.prototype.request;
  const byPort = new Map<string, number>();
  DeviceSession.prototype.request = function (this: DeviceSession, ...args) {
    const started = performance.now();
    const pending = original.apply(this, args);
    const done = (): void => {
      const port = this.transport.path;
      byPort.set(port, (byPort.get(port) ?? 0) + performance.now() - started);
    };
    pending.then(done, done);
    return pending;
  } as typeof original;
  return {
    take(port) {
      const ms = byPort.get(port) ?? 0;
      byPort.delete(port);
      return ms;
    },
    reset() {
      byPort.clear();
    },
    stop() {
      DeviceSession.prototype.request = original;
    },
  };
}
