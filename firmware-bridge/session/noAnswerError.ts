import { damagedFrames, type DecoderStats } from '../codec/frameDecoder.js';
import { WireError } from '../codec/wireErrors.js';
import { RECENT_EXCHANGES } from './linkTrouble.js';

/**
 * The error for an answer that did not come. WIRE_LINK_NOISY when the line is to blame: damaged
 * frames arrived while the station waited (the device answered, the line garbled it), or the
 * latest exchanges of the session were troubled (`troubledExchanges`, linkTrouble.ts), so this
 * silence is most likely a request garbled on its way to the device. Else WIRE_TIMEOUT: a device
 * that answered cleanly and then fell silent stopped answering. The two send the technician to
 * different places (the cable and its shielding, or power and a hung device).
 */
export function noAnswerError(
  what: string,
  decoder: DecoderStats,
  damagedBefore: number,
  troubledExchanges: number,
): WireError {
  const damaged = damagedFrames(decoder) - damagedBefore;
  if (damaged > 0) {
    return new WireError(
      'WIRE_LINK_NOISY',
      `${what}; ${damaged} damaged frame(s) arrived meanwhile`,
    );
  }
  if (troubledExchanges > 0) {
    return new WireError(
      'WIRE_LINK_NOISY',
      `${what}; ${troubledExchanges} of the last ${RECENT_EXCHANGES} exchanges met damaged or lost frames`,
    );
  }
  return new WireError('WIRE_TIMEOUT', what);
}
