/**
 * The line's latest ended runs, newest first, below the slots. A slot card shows only its latest
 * run, so this is where a technician finds which device failed, and why, once the next device
 * is plugged in (for the rework bin). Results read as on the slot cards: word, symbol, colour.
 */
import { useEffect, useId, useRef, useState } from 'react';
import {
  DEFAULT_RECENT_RUNS,
  type RunViewPayload,
  type SlotViewPayload,
} from '../../station/api/contract.js';
import type { StationClient } from '../../station/api/stationClient.js';
import { clockTime, dateTime } from './clockTime.js';
import { RecentRunsFeed, type RecentRunsProblem } from './recentRunsFeed.js';
import { STATE_LABEL } from './SlotCard.js';
import './RecentRuns.css';

interface Props {
  /** The live connection; undefined while the station cannot be asked (the list stays, dimmed). */
  client: StationClient | undefined;
  /** The slots as shown: one that shows a run ended that is not listed makes the list ask again. */
  slots: SlotViewPayload[];
}

export function RecentRuns({ client, slots }: Props) {
  const [failedOnly, setFailedOnly] = useState(false);
  const [runs, setRuns] = useState<RunViewPayload[]>();
  const [problem, setProblem] = useState<RecentRunsProblem>();
  const feed = useRef<RecentRunsFeed | undefined>(undefined);
  const shownSlots = useRef(slots);
  const now = useToday();

  // Before the feed's effect: a new feed starts from the slots of the same render.
  useEffect(() => {
    shownSlots.current = slots;
    for (const slot of slots) feed.current?.slotChanged(slot);
  }, [slots]);

  // A new feed on every (re)connect and every change of the filter; it asks at once.
  useEffect(() => {
    if (!client) return;
    const started = new RecentRunsFeed({
      load: (args) => client.call('recentRuns', args),
      show: (update) => {
        if ('runs' in update) {
          setRuns(update.runs);
          setProblem(undefined);
        } else setProblem(update.problem);
      },
      failedOnly,
    });
    feed.current = started;
    started.start(shownSlots.current);
    return () => {
      started.dispose();
      if (feed.current === started) feed.current = undefined;
    };
  }, [client, failedOnly]);

  return (
    <RecentRunsView
      runs={runs}
      problem={problem}
      failedOnly={failedOnly}
      onFailedOnly={(only) => {
        // The other filter's rows must not stand for this one's while it loads.
        setRuns(undefined);
        setProblem(undefined);
        setFailedOnly(only);
      }}
      slots={slots}
      stale={client === undefined}
      now={now}
    />
  );
}

/**
 * The time now, renewed when the local day changes: an idle list shows yesterday's runs with
 * their date within a minute of midnight, not only once something else redraws it. Looked at
 * every minute rather than set for midnight: a workstation that slept, or whose clock or time
 * zone changed, catches up at the next look.
 */
function useToday(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => {
      const current = new Date();
      if (current.toDateString() !== now.toDateString()) setNow(current);
    }, 60_000);
    return () => clearInterval(timer);
  }, [now]);
  return now;
}

interface ViewProps {
  /** Undefined until the first answer. */
  runs: RunViewPayload[] | undefined;
  problem: RecentRunsProblem | undefined;
  failedOnly: boolean;
  onFailedOnly: (failedOnly: boolean) => void;
  /** To name each run's slot by its port. */
  slots: SlotViewPayload[];
  /** The list may be out of date (no live connection). */
  stale: boolean;
  /** Today, for the workstation: a run of another day shows its date. */
  now: Date;
}

/** The panel as drawn from its state (no station): what the component tests render. */
export function RecentRunsView({
  runs,
  problem,
  failedOnly,
  onFailedOnly,
  slots,
  stale,
  now,
}: ViewProps) {
  const headingId = useId();
  const slotOf = new Map(slots.map((slot) => [slot.port, slot.slot]));
  return (
    <section
      className={stale ? 'recent-runs stale' : 'recent-runs'}
      aria-labelledby={headingId}
      data-testid="recent-runs"
    >
      <div className="recent-runs-top">
        <h2 id={headingId}>Recent runs</h2>
        <label
          className="recent-runs-filter"
          title="The runs that did not pass: failed, or cancelled (by Cancel or a station stop). Each of their devices needs another run."
        >
          <input
            type="checkbox"
            checked={failedOnly}
            // Off while the station cannot be asked: the list would empty with nothing to fill it.
            disabled={stale}
            onChange={(event) => onFailedOnly(event.currentTarget.checked)}
            data-testid="recent-runs-failed-only"
          />
          Failures only
        </label>
      </div>
      {problem && (
        <p className="recent-runs-problem" role="status" data-testid="recent-runs-problem">
          The recent runs could not be read: {problem.message}
          {problem.code && <span className="recent-runs-code"> ({problem.code})</span>}
        </p>
      )}
      {runs === undefined ? (
        !problem && <p className="recent-runs-note">Loading the recent runs…</p>
      ) : runs.length === 0 ? (
        <p className="recent-runs-note" data-testid="recent-runs-empty">
          {failedOnly ? 'No failed or cancelled run.' : 'No run has ended yet.'}
        </p>
      ) : (
        <table className="recent-runs-table" aria-labelledby={headingId}>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Slot</th>
              <th scope="col">Serial</th>
              <th scope="col">Registration ID</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <RunRow key={run.runId} run={run} slot={slotOf.get(run.port)} now={now} />
            ))}
          </tbody>
        </table>
      )}
      {runs !== undefined && runs.length >= DEFAULT_RECENT_RUNS && (
        <p className="recent-runs-note" data-testid="recent-runs-more">
          The latest {DEFAULT_RECENT_RUNS} only: `station runs list` on the workstation lists them
          all.
        </p>
      )}
    </section>
  );
}

function RunRow({ run, slot, now }: { run: RunViewPayload; slot: number | undefined; now: Date }) {
  const label = STATE_LABEL[run.state];
  return (
    <tr data-testid="recent-run" data-run-id={run.runId} data-state={run.state}>
      <td>
        <time
          dateTime={run.startedAt}
          title={`Run ${run.runId}: started ${dateTime(run.startedAt)}, ended ${dateTime(run.finishedAt)}`}
        >
          {clockTime(run.startedAt, now)}
        </time>
        {/* The end and the run id, which the tooltip shows, for a screen reader as well. */}
        <span className="visually-hidden">
          , ended {clockTime(run.finishedAt, now)}, run {run.runId}
        </span>
      </td>
      <td>
        {/* A space between: read aloud or copied, the slot is not glued to its port. */}
        {slot !== undefined && (
          <>
            <span className="recent-run-slot">{slot}</span>{' '}
          </>
        )}
        <span className="recent-run-port">{run.port}</span>
      </td>
      <td className="recent-run-id">{run.serialNumber ?? '—'}</td>
      <td className="recent-run-id" data-testid="recent-run-registration-id">
        {run.registrationId ?? '—'}
      </td>
      <td>
        <span className={`recent-run-result state-${run.state}`} data-testid="recent-run-result">
          <span aria-hidden="true">{label.symbol}</span> {label.word}
        </span>
        {/* A cancel shows its reason too: the operator's Cancel, or the station stopping. */}
        {run.error && (
          <div className="recent-run-error" data-testid="recent-run-error">
            <p className="recent-run-error-message">{run.error.message}</p>
            <p className="recent-run-error-code">{run.error.code}</p>
          </div>
        )}
      </td>
    </tr>
  );
}
