import type { OutboxCounts } from './lineTypes.js';
import { toCodedError } from './runErrors.js';

/**
 * The outbox counts every UI shows, read from the recorder. A database that refuses the read
 * (a damaged page, a failing disk) must not take the UI down with it: the counts are part of the
 * snapshot a UI needs to connect at all, so a read that throws would leave every screen on
 * "reconnecting" while the slots still run. The last counts read stand in, and the refusal
 * becomes a station note that every UI shows until a read works again.
 */
export class OutboxCountsView {
  private last: OutboxCounts = { pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 };
  private problem: string | undefined;
  private everRead = false;

  constructor(
    private readonly read: () => OutboxCounts,
    /** Called when the note appears, changes or clears: the station status changed. */
    private readonly noteChanged: () => void,
  ) {}

  /** The counts now, or the last ones read when the store refuses. Never throws. */
  current(): OutboxCounts {
    let problem: string | undefined;
    try {
      this.last = this.read();
      this.everRead = true;
    } catch (err) {
      const { code, message } = toCodedError(err);
      // Zeros that were never read must not pass for an empty outbox.
      const shown = this.everRead ? 'are the last ones read' : 'are not known (shown as 0)';
      problem = `The outbox counts ${shown}: the station database refused the read [${code}]. ${message}`;
    }
    if (problem !== this.problem) {
      this.problem = problem;
      this.noteChanged();
    }
    return { ...this.last };
  }

  /** The station note while the store refuses reads, else undefined. */
  get note(): string | undefined {
    return this.problem;
  }
}
