/**
 * The enrollment outbox by status, and the sync to DPS that drains it: its state in words, and
 * pause / resume / sync now. Failed and conflict stand out when they are not zero, and the sync's
 * words then say that they wait for a supervisor: "up to date" beside a red count read as if
 * nothing were left to do.
 */
import type { OutboxCountsPayload, StationStatusPayload } from '../../station/api/contract.js';
import { clockTime } from './clockTime.js';

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
  onSync: (action: SyncAction) => void;
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
                {sync.lastError.message}
              </span>
            )}
            {sync.state === 'paused' ? (
              <button type="button" disabled={!enabled} onClick={() => onSync('resume')}>
                Resume sync
              </button>
            ) : (
              <button type="button" disabled={!enabled} onClick={() => onSync('pause')}>
                Pause sync
              </button>
            )}
            <button
              type="button"
              disabled={!enabled || sync.state === 'paused'}
              onClick={() => onSync('now')}
            >
              Sync now
            </button>
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
