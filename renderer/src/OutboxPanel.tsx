/**
 * The enrollment outbox by status, and the sync to DPS that drains it: its state in words, and
 * pause / resume / sync now. Failed and conflict stand out when they are not zero, and the sync's
 * words then say that they wait for a supervisor: "up to date" beside a red count read as if
 * nothing were left to do.
 */
import type { OutboxCountsPayload, StationStatusPayload } from '../../station/api/contract.js';
import { useLayoutEffect, useRef, useState } from 'react';
import { clockTime } from './clockTime.js';
import { useDoubleClickHold } from './useDoubleClickHold.js';

const ORDER = [
  ['pending', 'Pending'],
  ['syncing', 'Syncing'],
  ['synced', 'Synced'],
  ['failed', 'Failed'],
  ['conflict', 'Conflict'],
] as const;

type SyncStatus = NonNullable<StationStatusPayload['sync']>;
export type SyncAction = 'pause' | 'resume' | 'now';

const STATE_TEXT: Record<SyncStatus['state'], string> = {
  idle: 'up to date',
  syncing: 'sending',
  backoff: 'waiting to retry',
  offline: 'DPS unreachable, retrying',
  paused: 'paused',
  stopped: 'stopped',
  locked: 'starts when the line is unlocked',
};

function syncText(sync: SyncStatus, outbox: OutboxCountsPayload, now: Date): string {
  if (sync.state === 'idle' && needSupervisor(outbox) > 0) return 'DPS sync: nothing more to send';
  const held = sync.heldUntil ? ` until ${clockTime(sync.heldUntil, now)}` : '';
  return `DPS sync: ${STATE_TEXT[sync.state]}${sync.state === 'backoff' ? held : ''}`;
}

/**
 * Rows no sync moves again: DPS refused them, their group in DPS is missing or differs (group
 * members), or DPS holds their IDs with other credentials.
 */
function needSupervisor(outbox: OutboxCountsPayload): number {
  return outbox.failed + outbox.conflict;
}

/**
 * A station command as the supervisor types it: with the station's `--data-dir` when its data
 * folder is not the default one (the station words and quotes the flag; the snapshot carries it).
 */
function stationCommand(command: string, dataDirFlag: string | undefined): string {
  return dataDirFlag === undefined ? `station ${command}` : `station ${command} ${dataDirFlag}`;
}

/** How many rows wait for a supervisor, why, and the command that lists them. */
export function attentionText(
  outbox: OutboxCountsPayload,
  dataDirFlag?: string,
): string | undefined {
  const total = needSupervisor(outbox);
  if (total === 0) return undefined;
  const parts: string[] = [];
  if (outbox.conflict > 0) {
    parts.push(
      `${outbox.conflict} conflict (DPS holds their registration IDs with other credentials): ${stationCommand('queue list --status conflict', dataDirFlag)}`,
    );
  }
  if (outbox.failed > 0) {
    parts.push(
      `${outbox.failed} failed (DPS refused them, their enrollment group in DPS is missing or differs, or they cannot be sent): ${stationCommand('queue list --status failed', dataDirFlag)}`,
    );
  }
  return `${total} enrollment(s) wait for a supervisor, on the workstation: ${parts.join('; ')}.`;
}

export function OutboxPanel({
  outbox,
  sync,
  dataDirFlag,
  enabled,
  stale,
  onSync,
}: {
  outbox: OutboxCountsPayload | undefined;
  sync: SyncStatus | undefined;
  /** The snapshot's `--data-dir <folder>`, added to the commands named here. */
  dataDirFlag?: string | undefined;
  enabled: boolean;
  /** The station's word is unknown (useUnknownSince): the counts are what it last said. */
  stale: boolean;
  /** Sends the action; settles once the station answered (either way). */
  onSync: (action: SyncAction) => Promise<unknown>;
}) {
  if (!outbox) return null;
  const attention = attentionText(outbox, dataDirFlag);
  return (
    <footer className={stale ? 'outbox stale' : 'outbox'} aria-label="Enrollment outbox">
      <h2>Enrollments to DPS</h2>
      <dl>
        {ORDER.map(([key, label]) => {
          const alarm = (key === 'failed' || key === 'conflict') && outbox[key] > 0;
          return (
            <div key={key} className={alarm ? 'outbox-count outbox-alarm' : 'outbox-count'}>
              <dt>{label}</dt>
              <dd data-testid={`outbox-${key}`}>{outbox[key]}</dd>
            </div>
          );
        })}
      </dl>
      <div className="outbox-sync" aria-label="DPS sync">
        {sync ? (
          <>
            <span data-testid="sync-state" data-state={sync.state}>
              {syncText(sync, outbox, new Date())}
            </span>
            {attention && (
              <span className="sync-error" data-testid="sync-attention" role="status">
                {attention}
              </span>
            )}
            {sync.lastError && sync.state !== 'idle' && (
              <span className="sync-error" role="status">
                {sync.lastError.message}{' '}
                {/* The code is what a supervisor quotes to support, as a card's error shows it. */}
                <span className="sync-error-code">{sync.lastError.code}</span>
              </span>
            )}
            <SyncButtons paused={sync.state === 'paused'} enabled={enabled} onSync={onSync} />
          </>
        ) : (
          <span data-testid="sync-state" data-state="none">
            DPS sync: off (no DPS connection on this station); enrollments wait here. Without a
            network a supervisor carries them to DPS with{' '}
            <code>{stationCommand('bundle export', dataDirFlag)}</code>.
          </span>
        )}
      </div>
    </footer>
  );
}

/**
 * Pause or Resume (one spot, as the sync is paused or not) and Sync now. All stay off while a
 * press waits for the station's answer, and for a double-click's time after a press and after
 * Pause and Resume swap: the station's status event can swap them between the two clicks of a
 * double-click, which then paused the sync the supervisor had just resumed, or the second click
 * sent the same command again.
 */
function SyncButtons({
  paused,
  enabled,
  onSync,
}: {
  paused: boolean;
  enabled: boolean;
  onSync: (action: SyncAction) => Promise<unknown>;
}) {
  const [pending, setPending] = useState(false);
  // A ref as well as state: a second click may come before the disabled buttons are drawn.
  const busy = useRef(false);
  const { held, hold, isHeld } = useDoubleClickHold();
  // Before the swapped button is painted, so no click reaches it enabled.
  const shown = useRef(paused);
  useLayoutEffect(() => {
    if (shown.current === paused) return;
    shown.current = paused;
    hold();
  }, [paused]);
  const press = (action: SyncAction) => () => {
    if (busy.current || isHeld()) return;
    hold();
    busy.current = true;
    setPending(true);
    void onSync(action).finally(() => {
      busy.current = false;
      setPending(false);
    });
  };
  const off = !enabled || pending || held;
  return (
    <>
      {paused ? (
        <button type="button" disabled={off} onClick={press('resume')}>
          Resume sync
        </button>
      ) : (
        <button type="button" disabled={off} onClick={press('pause')}>
          Pause sync
        </button>
      )}
      <button type="button" disabled={off || paused} onClick={press('now')}>
        Sync now
      </button>
    </>
  );
}
