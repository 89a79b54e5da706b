import { REPEATED_FAILURE_LIMIT } from './failureStreak.js';
import { passesBeforeStart } from './passedBeforeStart.js';
import type { PortHold, PortPass, RunRecorder } from './runRecorder.js';
import type { Slot } from './slot.js';

/**
 * What the store says of each port as a line starts, about the board that may still be on it:
 * the last PASS of the port (passedBeforeStart.ts), or a board the slot held after its failures
 * in a row (RUN_REPEATED_FAILURE). A restart must not run either board again by itself: the
 * passed one would be run under its duplicate policy, the held one would fail once more at every
 * restart. Each is handed to the port's slot as the port first appears after the start (a USB
 * adapter may enumerate after the station), and auto mode asks who is there before any run.
 */
export class PortsAtStart {
  private passes = new Map<string, PortPass>();
  private holds = new Map<string, PortHold>();

  /** Reads both again, at each start of the line. */
  read(recorder: RunRecorder): void {
    this.passes = passesBeforeStart(recorder);
    this.holds = holdsBeforeStart(recorder);
  }

  /**
   * Hands `slot` what the store said of its port, at its first appearance after the start only:
   * a board plugged in later is a board plugged in, and runs as the profile says (a held slot
   * still asks it who it is, as it asks any board after a hold).
   */
  handTo(slot: Slot): void {
    slot.passedBeforeStart = take(this.passes, slot.port);
    const hold = take(this.holds, slot.port);
    if (hold) slot.restoreHold(hold);
  }
}

/** The held boards by port; empty when the store cannot say (the line then runs them once). */
function holdsBeforeStart(recorder: RunRecorder): Map<string, PortHold> {
  try {
    const holds = recorder.heldBoardsByPort?.(REPEATED_FAILURE_LIMIT) ?? [];
    return new Map(holds.map((hold) => [hold.port, hold]));
  } catch {
    return new Map();
  }
}

function take<T>(byPort: Map<string, T>, port: string): T | undefined {
  const value = byPort.get(port);
  byPort.delete(port);
  return value;
}
