/**
 * When a request that meets silence goes out again, with its request id (PROTOCOL.md §6.1).
 *
 * An idempotent request waits out its whole timeout, then goes out again and waits a new one:
 * a repeat is harmless whatever the device did with the first copy.
 *
 * A non-idempotent request goes out again within its one timeout, at even fractions of it (one
 * third and two thirds, by default), and fails when that timeout ends: a dead device fails at
 * the guidance, as it did before these re-sends. A repeat is safe (§6.2): a device busy with
 * the request ignores it, one that answered already replays its stored answer, and one that
 * never heard the request (garbled on the way) executes it now, with the rest of the timeout
 * left for the work. Re-sending early rather than after the timeout is what keeps the deadline.
 */
export class SilenceResends {
  private deadline = 0;
  private nextResend = Number.POSITIVE_INFINITY;
  private left: number;
  private readonly step: number;

  /**
   * @param early re-sends within the timeout of a non-idempotent request; ignored for an
   *   idempotent one.
   */
  constructor(
    private readonly idempotent: boolean,
    private readonly timeoutMs: number,
    early: number,
  ) {
    this.left = idempotent ? 0 : Math.max(0, Math.floor(early));
    this.step = timeoutMs / (this.left + 1);
  }

  /**
   * A copy of the request went out at `now` that opens a new wait: the first one, an idempotent
   * re-send after silence, or a re-send for a damaged answer (the device answered, so its
   * replay gets a whole timeout; the re-sends not yet used are spread over it).
   */
  startWait(now: number): void {
    this.deadline = now + this.timeoutMs;
    this.nextResend = this.left > 0 ? now + this.step : Number.POSITIVE_INFINITY;
  }

  /** When the wait for an answer must wake: the next early re-send, or the deadline. */
  wakeAt(): number {
    return Math.min(this.nextResend, this.deadline);
  }

  /**
   * The wait ended without a frame at `now`. 'resend': send the request again now (an early
   * re-send, already counted); 'expired': the timeout is over; 'wait': a timer woke early.
   */
  onSilence(now: number): 'resend' | 'expired' | 'wait' {
    if (now >= this.deadline) return 'expired';
    if (now < this.nextResend) return 'wait';
    this.left--;
    const next = this.nextResend + this.step;
    this.nextResend = this.left > 0 && next < this.deadline ? next : Number.POSITIVE_INFINITY;
    return 'resend';
  }

  /** Whether the request opens a new wait once its timeout is over (an idempotent one). */
  get repeatsAfterTimeout(): boolean {
    return this.idempotent;
  }
}
