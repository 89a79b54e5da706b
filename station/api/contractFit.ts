/**
 * Fits what the line reports into the contract's bounds before it crosses the pipe. A client
 * checks every message against the contract and drops one that breaks it, so one over-long text
 * (an error detail quoting what a device sent) would lose that slot's update, leaving the slot
 * showing a run that ended, or the whole snapshot, leaving the UI unable to connect at all.
 */
import type { StationStatus } from '../line/lineController.js';
import type { CodedError, RunView, SlotView } from '../line/lineTypes.js';
import { MAX_CODE_CHARS, MAX_NOTES, MAX_TEXT_CHARS } from './contract.js';

/** `text`, cut to the contract's limit with an ellipsis that says so. */
export function clipText(text: string): string {
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS - 1)}…` : text;
}

export function fitError(error: CodedError): CodedError {
  const fitted: CodedError = {
    code: error.code.slice(0, MAX_CODE_CHARS),
    message: clipText(error.message),
  };
  if (error.detail !== undefined) fitted.detail = clipText(error.detail);
  return fitted;
}

export function fitSlotView(view: SlotView): SlotView {
  const fitted: SlotView = { ...view, port: clipText(view.port) };
  for (const key of ['serialNumber', 'model', 'registrationId', 'registeredHub'] as const) {
    const value = view[key];
    if (value !== undefined) fitted[key] = clipText(value);
  }
  if (view.error) fitted.error = fitError(view.error);
  return fitted;
}

export function fitRunView(view: RunView): RunView {
  const fitted: RunView = {
    ...view,
    port: clipText(view.port),
    startedAt: clipText(view.startedAt),
    finishedAt: clipText(view.finishedAt),
  };
  for (const key of ['serialNumber', 'model', 'registrationId'] as const) {
    const value = view[key];
    if (value !== undefined) fitted[key] = clipText(value);
  }
  if (view.error) fitted.error = fitError(view.error);
  return fitted;
}

export function fitStatus(status: StationStatus): StationStatus {
  const fitted: StationStatus = {
    ...status,
    profile: clipText(status.profile),
    ca: { ...status.ca, subject: clipText(status.ca.subject) },
    notes: status.notes.slice(0, MAX_NOTES).map(clipText),
  };
  if (status.sync) {
    const sync = { ...status.sync };
    if (sync.lastError) sync.lastError = fitError(sync.lastError);
    if (sync.heldUntil !== undefined) sync.heldUntil = clipText(sync.heldUntil);
    fitted.sync = sync;
  }
  return fitted;
}
