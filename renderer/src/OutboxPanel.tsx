/** The enrollment outbox by status; failed and conflict stand out when they are not zero. */
import type { OutboxCountsPayload } from '../../station/api/contract.js';

const ORDER = [
  ['pending', 'Pending'],
  ['syncing', 'Syncing'],
  ['synced', 'Synced'],
  ['failed', 'Failed'],
  ['conflict', 'Conflict'],
] as const;

export function OutboxPanel({ outbox }: { outbox: OutboxCountsPayload | undefined }) {
  if (!outbox) return null;
  return (
    <footer className="outbox" aria-label="Enrollment outbox">
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
    </footer>
  );
}
