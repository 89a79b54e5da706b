import { damagedFrames, type DecoderStats } from '../codec/frameDecoder.js';
import { WireError } from '../codec/wireErrors.js';

/**
 * The error for an answer that did not come: WIRE_LINK_NOISY when damaged frames arrived while
 * the station waited (the device did answer, the line garbled it: a cable, its shielding, a
 * baud rate that does not match), else WIRE_TIMEOUT. The two send the technician to different
 * places; "the device stopped answering" for a device that answers would send them the wrong way.
 */
export function noAnswerError(
  what: string,
  decoder: DecoderStats,
  damagedBefore: number,
): WireError {
  const damaged = damagedFrames(decoder) - damagedBefore;
  return damaged > 0
    ? new WireError('WIRE_LINK_NOISY', `${what}; ${damaged} damaged frame(s) arrived meanwhile`)
    : new WireError('WIRE_TIMEOUT', what);
}
