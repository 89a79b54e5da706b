import { damagedFrames, type DecoderStats } from '../codec/frameDecoder.js';

/**
 * How many of the latest exchanges speak for the line when a request meets silence. About one
 * provisioning run (INFO to COMMIT is seven exchanges): damage that troubled a run's earlier
 * steps still explains its later silence, while a long-lived session forgets a burst of noise
 * after this many clean exchanges.
 */
export const RECENT_EXCHANGES = 8;

/**
 * What one session has seen of its line, so that silence can be told apart (noAnswerError.ts):
 * a request garbled on its way to the device meets silence exactly as a dead device does, and
 * the station only hears the other direction. So the exchanges before it testify: on a noisy
 * line some of them met damaged frames, or were answered only after a frame was sent again.
 *
 * Nothing before the device's first whole frame counts: boot banners and noise before it are
 * normal (PROTOCOL.md §2.3), and a device that lost power must not be called noisy for them.
 */
export class LinkTrouble {
  /** Damaged frames counted when the device's first whole frame arrived; undefined until then. */
  private damagedAtFirstFrame: number | undefined;
  /** Whether each of the latest exchanges (oldest first) was troubled. */
  private readonly recent: boolean[] = [];

  constructor(private readonly decoder: DecoderStats) {}

  /** A whole frame of an exchange arrived from the device. */
  heardDevice(): void {
    this.damagedAtFirstFrame ??= damagedFrames(this.decoder);
  }

  /**
   * One exchange ended, answered or not. `damagedBefore`: the damaged-frame count when it began;
   * `framesRecovered`: frames of it that went unanswered and were answered once sent again (a
   * frame lost on the way, or its answer lost). Re-sends that met only silence prove nothing:
   * a dead device causes them too.
   */
  endExchange(damagedBefore: number, framesRecovered: number): void {
    const since = this.damagedAtFirstFrame;
    if (since === undefined) return; // the device never answered: nothing is known of the line
    const damaged = damagedFrames(this.decoder) - Math.max(damagedBefore, since);
    this.recent.push(damaged > 0 || framesRecovered > 0);
    if (this.recent.length > RECENT_EXCHANGES) this.recent.shift();
  }

  /** How many of the latest RECENT_EXCHANGES ended exchanges were troubled. */
  troubledExchanges(): number {
    return this.recent.filter(Boolean).length;
  }
}
