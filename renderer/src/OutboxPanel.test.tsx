import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { snapshotSchema } from '../../station/api/contract.js';
import { clockTime } from './clockTime.js';
import { OutboxPanel } from './OutboxPanel.js';

const outbox = { pending: 3, syncing: 0, synced: 0, failed: 0, conflict: 0 };
type Sync = Parameters<typeof OutboxPanel>[0]['sync'];

const panel = (counts: typeof outbox, sync: Sync, dataDirFlag?: string) =>
  renderToStaticMarkup(
    <OutboxPanel
      outbox={counts}
      sync={sync}
      dataDirFlag={dataDirFlag}
      enabled
      stale={false}
      onSync={() => Promise.resolve()}
    />,
  );

/** The text of the element with `testId`, tags and entities left as they render. */
const textOf = (html: string, testId: string) =>
  new RegExp(`data-testid="${testId}"[^>]*>([^<]*)<`).exec(html)?.[1];

describe('OutboxPanel', () => {
  it('on a line without a DPS connection, says the enrollments wait and how a bundle carries them', () => {
    const html = panel(outbox, undefined);
    expect(html).toContain('data-state="none"');
    expect(html).toContain('enrollments wait here');
    expect(html).toContain('<code>station bundle export</code>');
    expect(html).not.toContain('Sync now');
  });

  it('says up to date only when no enrollment waits for a supervisor', () => {
    const done = { ...outbox, pending: 0, synced: 12 };
    const html = panel(done, { state: 'idle', connection: 'online' });
    expect(textOf(html, 'sync-state')).toBe('DPS sync: up to date');
    expect(html).not.toContain('data-testid="sync-attention"');
  });

  // "DPS sync: up to date" stood beside a red "Conflict 5".
  it('with conflicts and failures, says how many wait for a supervisor and what lists them', () => {
    const stuck = { ...outbox, pending: 0, synced: 7, conflict: 5, failed: 2 };
    const html = panel(stuck, { state: 'idle', connection: 'online' });
    expect(textOf(html, 'sync-state')).toBe('DPS sync: nothing more to send');
    expect(html).not.toContain('up to date');
    expect(textOf(html, 'sync-attention')).toBe(
      '7 enrollment(s) wait for a supervisor, on the workstation: 5 conflict (DPS holds their registration IDs with other credentials): station queue list --status conflict; 2 failed (DPS refused them, their enrollment group in DPS is missing or differs, or they cannot be sent): station queue list --status failed.',
    );
    // While it still sends, the supervisor's rows are said as well.
    const sending = panel({ ...stuck, pending: 4 }, { state: 'syncing', connection: 'online' });
    expect(textOf(sending, 'sync-attention')).toMatch(/^7 enrollment\(s\) wait for a supervisor/);
  });

  // "waiting to retry until 3:28:26 PM" beside the recent runs' "15:27:38".
  it('gives a retry time in the 24-hour clock the rest of the UI uses', () => {
    const at = new Date();
    at.setHours(15, 28, 26, 0);
    const html = panel(outbox, {
      state: 'backoff',
      connection: 'online',
      heldUntil: at.toISOString(),
    });
    expect(textOf(html, 'sync-state')).toBe('DPS sync: waiting to retry until 15:28:26');
    expect(clockTime(at.toISOString(), new Date())).toBe('15:28:26');
  });

  // On a station whose data folder is not the default, the command read another (empty) store.
  it('names the station’s data folder in the commands it gives, as the snapshot words it', () => {
    const flag = "--data-dir '/srv/line 7'";
    // The contract carries the flag from the station to the UI.
    const snapshot = snapshotSchema.parse({
      status: {
        demo: false,
        profile: 'p',
        mode: 'auto',
        ca: { locked: false, subject: 's', daysLeft: 9 },
        notes: [],
      },
      slots: [],
      outbox,
      unlockHere: false,
      dataDirFlag: flag,
    });
    const stuck = { ...outbox, pending: 0, conflict: 1, failed: 1 };
    const html = panel(stuck, { state: 'idle', connection: 'online' }, snapshot.dataDirFlag);
    expect(textOf(html, 'sync-attention')).toBe(
      '2 enrollment(s) wait for a supervisor, on the workstation: 1 conflict (DPS holds their registration IDs with other credentials): station queue list --status conflict --data-dir &#x27;/srv/line 7&#x27;; 1 failed (DPS refused them, their enrollment group in DPS is missing or differs, or they cannot be sent): station queue list --status failed --data-dir &#x27;/srv/line 7&#x27;.',
    );
    expect(panel(outbox, undefined, flag)).toContain(
      '<code>station bundle export --data-dir &#x27;/srv/line 7&#x27;</code>',
    );
  });

  // Only the message showed, so a supervisor had no code to quote to support.
  it('shows the code of the sync’s last error beside its words, in small type', () => {
    const html = panel(outbox, {
      state: 'offline',
      connection: 'offline',
      lastError: { code: 'DPS_UNREACHABLE', message: 'DPS did not answer.' },
    });
    expect(html).toContain(
      '<span class="sync-error" role="status">DPS did not answer. <span class="sync-error-code">DPS_UNREACHABLE</span></span>',
    );
  });
});
