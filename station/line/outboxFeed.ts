import type { OutboxCounts } from './lineTypes.js';
import { OutboxCountsView } from './outboxCountsView.js';
import type { RunRecorder } from './runRecorder.js';

/**
 * How often the line looks whether another process changed the outbox. A supervisor's command
 * is no race against the line: the counts only have to catch up before anyone wonders, and a
 * look costs one pragma, off every device's path.
 */
const OUTBOX_REFRESH_MS = 10_000;

export interface OutboxFeedOptions {
  recorder: RunRecorder;
  /** Tells every UI the new counts (Line.onOutboxChanged). */
  emit: (counts: OutboxCounts) => void;
  /** The read-failure note appeared, changed or cleared (OutboxCountsView). */
  noteChanged: () => void;
  /** Default OUTBOX_REFRESH_MS. */
  everyMs?: number;
}

/**
 * The outbox counts the line shows, and when it tells the UIs. The line's own PASS and the sync
 * worker's progress publish them at once. Another process writing the station database (a
 * supervisor's `station bundle receive` or `queue requeue`) tells the line nothing, so while
 * started the feed looks every `everyMs` whether anyone else committed (RunRecorder.dataVersion)
 * and re-reads the counts only then, telling the UIs only counts they were not told yet.
 */
export class OutboxFeed {
  private readonly view: OutboxCountsView;
  /** The counts last told to the UIs, or read at the start: what every screen shows. */
  private shown: OutboxCounts | undefined;
  private version: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxFeedOptions) {
    const { recorder } = options;
    this.view = new OutboxCountsView(() => recorder.outboxCounts(), options.noteChanged);
  }

  /** The counts now (OutboxCountsView: never throws). */
  current(): OutboxCounts {
    return this.view.current();
  }

  /** The station note while the store refuses reads, else undefined. */
  get note(): string | undefined {
    return this.view.note;
  }

  /** Tells the UIs the counts now: the line or its sync changed the outbox. */
  publish(): void {
    const counts = this.view.current();
    this.shown = counts;
    this.options.emit(counts);
  }

  /** Starts looking for other processes' changes; nothing to look at without dataVersion. */
  start(): void {
    this.stop();
    if (!this.options.recorder.dataVersion) return;
    this.version = this.readVersion();
    this.shown = this.view.current();
    this.timer = setInterval(() => this.look(), this.options.everyMs ?? OUTBOX_REFRESH_MS);
    // A look is never a reason to keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private look(): void {
    const version = this.readVersion();
    if (version === undefined || version === this.version) return;
    const counts = this.view.current();
    // A refused read stands in the last counts: look again next time, not after the next change.
    if (this.view.note === undefined) this.version = version;
    if (this.shown && sameCounts(counts, this.shown)) return;
    this.shown = counts;
    this.options.emit(counts);
  }

  /** Undefined when the store cannot say: the next look asks again. */
  private readVersion(): number | undefined {
    try {
      return this.options.recorder.dataVersion?.();
    } catch {
      return undefined;
    }
  }
}

function sameCounts(a: OutboxCounts, b: OutboxCounts): boolean {
  return (Object.keys(a) as (keyof OutboxCounts)[]).every((key) => a[key] === b[key]);
}
