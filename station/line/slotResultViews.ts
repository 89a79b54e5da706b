import type { CodedError, SlotView } from './lineTypes.js';
import type { RunOutcome } from './provisioningRun.js';
import { RunError } from './runErrors.js';
import type { PortHold, PortPass } from './runRecorder.js';

/** A slot's view as Slot.show takes it: the time of the change is added there. */
export type ShownView = Omit<SlotView, 'updatedAt'>;

/** A copy of `view` that its reader cannot change the slot's own through. */
export function copyView(view: SlotView): SlotView {
  return view.error ? { ...view, error: { ...view.error } } : { ...view };
}

/**
 * What a slot shows once its run ended: the result, and the device and registration ID as far
 * as the run learnt them, over the step and progress it reached (`current`). A hold of the slot
 * replaces the error afterwards (Slot.finish).
 */
export function endedRunView(current: SlotView, outcome: RunOutcome): ShownView {
  const next: ShownView = {
    slot: current.slot,
    port: current.port,
    state: outcome.state,
    progress: outcome.state === 'pass' ? 1 : current.progress,
  };
  if (current.step !== undefined) next.step = current.step;
  if (outcome.runId !== undefined) next.runId = outcome.runId;
  if (outcome.state === 'pass') {
    next.serialNumber = outcome.record.device.serialNumber;
    next.model = outcome.record.device.model;
    next.registrationId = outcome.record.registrationId;
  } else {
    if (outcome.device) {
      next.serialNumber = outcome.device.serialNumber;
      next.model = outcome.device.model;
    }
    if (outcome.registrationId !== undefined) next.registrationId = outcome.registrationId;
    next.error = outcome.error;
  }
  return next;
}

/** The PASS a restarted line found still held by the board on the port (confirmEarlierPass). */
export function earlierPassView(slot: number, port: string, pass: PortPass): ShownView {
  const { runId, serialNumber, model, registrationId } = pass;
  return { slot, port, state: 'pass', progress: 1, runId, serialNumber, model, registrationId };
}

/**
 * What a slot shows for a board held before the line started (PortHold), once its recheck found
 * that board still on the port: its latest failure, with the hold's `error` in place of its own.
 */
export function restoredHoldView(
  slot: number,
  port: string,
  hold: PortHold,
  error: CodedError,
): ShownView {
  const { runId, serialNumber, model, registrationId } = hold;
  const view: ShownView = { slot, port, state: 'fail', progress: 0, runId, serialNumber, model };
  if (registrationId !== undefined) view.registrationId = registrationId;
  return { ...view, error };
}

/**
 * The operator cancelled the slot's check of its device (a held board, an earlier PASS): no run
 * follows, so the card says so and offers Provision, where it would wait for a re-plug.
 */
export function checkCancelledView(slot: number, port: string): ShownView {
  const error = new RunError('RUN_CANCELLED', 'the operator cancelled the check of the device');
  return { slot, port, state: 'cancelled', progress: 0, error: error.toJSON() };
}
