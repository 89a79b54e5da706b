/**
 * Product profile, line mode, CA state, how today's runs ended and, on the DEMO line, a badge
 * nobody can miss.
 */
import type { StationStatusPayload } from '../../station/api/contract.js';
import { clockTime } from './clockTime.js';

interface Props {
  status: StationStatusPayload | undefined;
  canChangeMode: boolean;
  onMode: (mode: 'auto' | 'manual') => void;
  /** Since when (ms) the station's word is unknown: the day's counts are then marked as old. */
  unknownSince: number | undefined;
}

function caText(ca: StationStatusPayload['ca']): { text: string; warn: boolean } {
  // A symmetric-key line signs nothing: its CA stays locked while the line runs.
  if (ca.unused)
    return { text: 'CA not used: this profile gives devices symmetric keys', warn: false };
  const days = Math.floor(ca.daysLeft);
  // Before "locked": unlocking an expired CA would not help, every X.509 run fails CA_EXPIRED.
  if (days < 0) return { text: 'CA expired: import a renewed CA', warn: true };
  if (ca.locked) return { text: 'CA locked — unlock it to provision', warn: true };
  return { text: `CA ready · ${ca.subject} · ${daysLeftText(days)}`, warn: days < 30 };
}

/**
 * Whole days the CA has left, floored: 0 is under 24 hours, which may end tomorrow by the clock,
 * so it is not called "today".
 */
function daysLeftText(days: number): string {
  if (days === 0) return 'less than a day left';
  return days === 1 ? '1 day left' : `${days} days left`;
}

/**
 * Today's runs, in words first: "412 passed · 3 failed" (cancelled ones only when there are);
 * "as of" the time the station's word was lost, dimmed, while it is unknown.
 */
function Today({
  today,
  unknownSince,
}: {
  today: NonNullable<StationStatusPayload['today']>;
  unknownSince: number | undefined;
}) {
  const asOf =
    unknownSince === undefined
      ? undefined
      : clockTime(new Date(unknownSince).toISOString(), new Date());
  return (
    <dd
      className={asOf === undefined ? 'today' : 'today stale'}
      aria-label="Runs today"
      data-testid="today"
    >
      <span className="today-passed">{today.passed} passed</span>
      {' · '}
      <span className={today.failed > 0 ? 'today-failed' : undefined}>{today.failed} failed</span>
      {today.cancelled > 0 && ` · ${today.cancelled} cancelled`}
      {asOf !== undefined && <span className="today-as-of"> · as of {asOf}, not live</span>}
    </dd>
  );
}

export function StationHeader({ status, canChangeMode, onMode, unknownSince }: Props) {
  const ca = status && caText(status.ca);
  return (
    <header className="station-header">
      <div className="title">
        <h1>Line Station</h1>
        {status?.demo && (
          <div className="demo-badge" role="status" aria-label="DEMO line">
            <span className="demo-word">DEMO</span>
            <span className="demo-text">Simulated devices · DEMO CA · not a real DPS</span>
          </div>
        )}
      </div>
      {status && (
        <dl className="facts">
          <div>
            <dt>Product</dt>
            <dd className="profile">{status.profile}</dd>
          </div>
          <div>
            <dt>Mode</dt>
            <dd className="mode-toggle" role="group" aria-label="Line mode">
              {(['auto', 'manual'] as const).map((mode) => (
                <button
                  key={mode}
                  type="button"
                  aria-pressed={status.mode === mode}
                  disabled={!canChangeMode}
                  onClick={() => status.mode !== mode && onMode(mode)}
                >
                  {mode === 'auto' ? 'Auto' : 'Manual'}
                </button>
              ))}
            </dd>
          </div>
          <div>
            <dt>CA</dt>
            <dd className={ca?.warn ? 'ca ca-warn' : 'ca'}>{ca?.text}</dd>
          </div>
          {status.today && (
            <div>
              <dt>Today</dt>
              <Today today={status.today} unknownSince={unknownSince} />
            </div>
          )}
        </dl>
      )}
    </header>
  );
}
