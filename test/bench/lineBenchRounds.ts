/** The line benchmark's driver: rounds of runs on every slot, and its one instrument. */
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import type { Line, RunEnded } from '../../station/line/line.js';

/**
 * Starts every slot and restarts each as soon as its run ends, until each slot has run
 * `perSlot` times; resolves with those runs.
 */
export function runRound(line: Line, slots: number, perSlot: number): Promise<RunEnded[]> {
  const runs: RunEnded[] = [];
  const started = new Map<number, number>();
  return new Promise((resolve) => {
    const dispose = line.onRunEnded.on((run) => {
      runs.push(run);
      if ((started.get(run.slot) ?? 0) < perSlot) {
        started.set(run.slot, (started.get(run.slot) ?? 0) + 1);
        line.provision(run.slot);
      }
      if (runs.length === slots * perSlot) {
        dispose();
        resolve(runs);
      }
    });
    for (let slot = 1; slot <= slots; slot++) {
      started.set(slot, 1);
      line.provision(slot);
    }
  });
}

/**
 * Sums the time every session spends inside request() (on the wire and in the device) until
 * stop(); the rest of a run's duration is the station's own time. A bench-only instrument: it
 * wraps DeviceSession.prototype.request for the window and puts it back.
 */
export function timeInRequests(): { stop(): number } {
  const original = DeviceSession.prototype.request;
  let total = 0;
  DeviceSession.prototype.request = function (this: DeviceSession, ...args) {
    const started = performance.now();
    const pending = original.apply(this, args);
    const done = (): void => {
      total += performance.now() - started;
    };
    pending.then(done, done);
    return pending;
  } as typeof original;
  return {
    stop: () => {
      DeviceSession.prototype.request = original;
      return total;
    },
  };
}
