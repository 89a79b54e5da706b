/**
 * The commands the station refused, as the alert list above the grid shows them: one entry per
 * command and slot, newest last, each kept until it is dismissed. Kept apart from App so the
 * rules (what replaces what, how many stay, what a lost answer means) are tested on their own.
 */
import { API_ERROR_CODES } from '../../station/api/contract.js';
import { StationApiError } from '../../station/api/stationClient.js';

export interface Refusal {
  /** The command and its slot (`provision 3`, `setMode`): a newer refusal of it replaces this. */
  key: string;
  /** What the operator reads: which command, and why it did not go through. */
  text: string;
}

/**
 * At most this many stay on screen: the oldest goes first. A line that refuses everything must
 * not push the grid off the screen with alerts.
 */
export const MAX_REFUSALS = 5;

/** The list with `refusal` added last, replacing an older one of the same command and slot. */
export function withRefusal(list: readonly Refusal[], refusal: Refusal): Refusal[] {
  return [...list.filter((r) => r.key !== refusal.key), refusal].slice(-MAX_REFUSALS);
}

/** The list without the refusal of `key`. */
export function withoutRefusal(list: readonly Refusal[], key: string): Refusal[] {
  return list.filter((r) => r.key !== key);
}

/**
 * The operator text for a command `what` (e.g. "Provision slot 3") that failed with `err`;
 * `check` is what to look at before pressing again (the slot, or the screen for the others).
 * A command that timed out or lost its connection may have reached the station, which then still
 * carries it out: saying it did not happen would invite a second press on a run already going.
 */
export function refusalText(what: string, err: unknown, check = 'the screen'): string {
  if (!(err instanceof StationApiError)) return `${what}: ${String(err)}`;
  if (err.code === API_ERROR_CODES.timeout || err.code === API_ERROR_CODES.disconnected) {
    const why =
      err.code === API_ERROR_CODES.timeout
        ? 'the station did not answer in time'
        : 'the connection to the station dropped before it answered';
    return (
      `${what}: no answer, ${why}. The station may still carry it out. ` +
      `Check ${check} before pressing again. (${err.code})`
    );
  }
  return `${what}: ${err.message} (${err.code})`;
}
