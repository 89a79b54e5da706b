import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DpsError, type DpsTlsRefusal } from '../../dps/dpsErrors.js';
import { judgeFailure } from '../sync/failurePolicy.js';
import { stateReached, SyncTestStation } from '../sync/testing/syncTestStation.js';
import type { SettledTrouble } from '../sync/settledTrouble.js';
import { SYNC_LOG_REMINDER_MS, SyncLog, TROUBLE_LINES_PER_WINDOW } from './syncLog.js';

/** What the sync worker reports (its `lastError`) for a refusal the DPS client classified. */
function refusal(tls: DpsTlsRefusal) {
  const err = new DpsError('DPS_TLS_UNTRUSTED', {
    detail: `GET /enrollments/x-1: ${tls.nodeCode}: refused`,
    tls,
  });
  return judgeFailure(err, 1, { baseMs: 1_000, capMs: 300_000 }, () => 0.5).error;
}

const untrusted = refusal({
  kind: 'untrusted-issuer',
  nodeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
});
const refused = {
  code: 'DPS_UNREACHABLE',
  message: 'DPS cannot be reached.',
  detail: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:18443',
};

describe('SyncLog', () => {
  let log: SyncLog;
  beforeEach(() => {
    log = new SyncLog();
  });
  const syncLogLine: SyncLog['line'] = (change, lastError) => log.line(change, lastError);
  it('keeps the start and every batch out of the log', () => {
    expect(syncLogLine({ previous: 'stopped', state: 'idle' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'idle', state: 'syncing' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'syncing', state: 'idle' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'idle', state: 'stopped' }, undefined)).toBe(
      'DPS sync: idle -> stopped',
    );
  });

  it('says why the line went offline, with the detail for the log', () => {
    const line = syncLogLine({ previous: 'syncing', state: 'offline' }, refused);
    expect(line).toContain(
      'DPS sync: syncing -> offline: DPS cannot be reached. [DPS_UNREACHABLE]',
    );
    expect(line).toContain('detail: ECONNREFUSED');
    expect(line).not.toContain('LINE_STATION_DPS_CA');
  });

  // A supervisor who pointed the line at the emulator without its CA saw only "offline".
  it('names LINE_STATION_DPS_CA, once, when the issuer of the DPS certificate is not trusted', () => {
    const line = syncLogLine({ previous: 'syncing', state: 'backoff' }, untrusted) ?? '';
    expect(line).toContain("does not trust the issuer of the DPS server's certificate");
    expect(line).toContain('[DPS_TLS_UNTRUSTED]');
    expect(line.match(/LINE_STATION_DPS_CA must name/g)).toHaveLength(1);
  });

  // The failure policy words each refusal (tlsRefusal.ts), naming LINE_STATION_DPS_CA only where
  // a CA is the cure: a hint of the log's own would repeat it, or send a supervisor to a CA for
  // an expired certificate.
  it.each([
    ['untrusted-issuer', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['hostname', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['expired', 'CERT_HAS_EXPIRED'],
    ['rejected', 'CERT_REJECTED'],
    ['bad-signature', 'CERT_SIGNATURE_FAILURE'],
  ] as const)(
    'logs a refusal of kind %s in the words the sync gave it, adding none',
    (kind, nodeCode) => {
      const error = refusal({ kind, nodeCode });
      expect(new SyncLog().line({ previous: 'syncing', state: 'backoff' }, error)).toBe(
        `DPS sync: syncing -> backoff: ${error.message} [DPS_TLS_UNTRUSTED]\n  detail: ${error.detail}`,
      );
    },
  );

  it('logs the same code and text again at once when its detail names another cause', () => {
    const store = (cause: string) => ({
      code: 'SYNC_STORE_FAILED',
      message: 'The sync cannot read or record the outbox.',
      detail: `${cause}: record the answers`,
    });
    expect(
      syncLogLine({ previous: 'syncing', state: 'backoff' }, store('STORE_BUSY')),
    ).toBeDefined();
    expect(syncLogLine({ previous: 'syncing', state: 'backoff' }, store('STORE_BUSY'))).toBe(
      undefined,
    );
    expect(
      syncLogLine({ previous: 'syncing', state: 'backoff' }, store('STORE_WRITE_FAILED')),
    ).toContain('STORE_WRITE_FAILED');
    const dns = { ...refused, detail: 'ENOTFOUND: getaddrinfo ENOTFOUND dps.example' };
    expect(syncLogLine({ previous: 'syncing', state: 'offline' }, refused)).toBeDefined();
    expect(syncLogLine({ previous: 'syncing', state: 'offline' }, dns)).toContain('ENOTFOUND');
  });

  it('reminds of a problem that lasts with no state change, every 10 minutes, not before', () => {
    const start = Date.UTC(2026, 2, 1, 10);
    const at = (ms: number) => new Date(start + ms).toISOString();
    expect(log.line({ previous: 'syncing', state: 'offline', at: at(0) }, refused)).toBeDefined();
    expect(log.remind('offline', refused, start + SYNC_LOG_REMINDER_MS - 1)).toBeUndefined();
    expect(log.remind('offline', refused, start + SYNC_LOG_REMINDER_MS)).toMatch(
      /^DPS sync: offline -> offline: DPS cannot be reached\. \[DPS_UNREACHABLE\] \(still, since /,
    );
    // Not twice in a row, not for a state out of trouble, not for another problem.
    expect(log.remind('offline', refused, start + SYNC_LOG_REMINDER_MS + 60_000)).toBeUndefined();
    expect(log.remind('idle', refused, start + 3 * SYNC_LOG_REMINDER_MS)).toBeUndefined();
    expect(log.remind('offline', untrusted, start + 3 * SYNC_LOG_REMINDER_MS)).toBeUndefined();
  });

  it('forgets the problem it logged when a worker starts again', () => {
    expect(syncLogLine({ previous: 'syncing', state: 'backoff' }, refused)).toBeDefined();
    expect(syncLogLine({ previous: 'syncing', state: 'backoff' }, refused)).toBeUndefined();
    expect(syncLogLine({ previous: 'backoff', state: 'stopped' }, refused)).toBeDefined();
    expect(syncLogLine({ previous: 'stopped', state: 'idle' }, undefined)).toBeUndefined();
    expect(syncLogLine({ previous: 'syncing', state: 'backoff' }, refused)).toBeDefined();
  });
});

describe('SyncLog', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 10) + s * 1000).toISOString();

  it('logs a new problem at once, even while another one was repeating', () => {
    const log = new SyncLog();
    expect(log.line({ previous: 'syncing', state: 'backoff', at: at(0) }, untrusted)).toMatch(
      /\[DPS_TLS_UNTRUSTED\]/,
    );
    expect(log.line({ previous: 'backoff', state: 'syncing', at: at(5) }, untrusted)).toBe(
      undefined,
    );
    expect(log.line({ previous: 'syncing', state: 'backoff', at: at(6) }, untrusted)).toBe(
      undefined,
    );
    expect(log.line({ previous: 'syncing', state: 'offline', at: at(9) }, refused)).toMatch(
      /^DPS sync: syncing -> offline: DPS cannot be reached. \[DPS_UNREACHABLE\]\n {2}detail:/,
    );
    // A person's pause is always logged.
    expect(log.line({ previous: 'offline', state: 'paused', at: at(10) }, refused)).toBe(
      'DPS sync: offline -> paused',
    );
  });

  describe('with a worker whose DPS certificate stays untrusted', () => {
    let station: SyncTestStation;
    beforeEach(() => {
      station = new SyncTestStation();
    });
    afterEach(() => station.close());

    // serve logged the same three lines about every 5 s (backoff -> syncing, the error, its
    // detail) for as long as the CA was missing.
    it('logs it once, again every 10 minutes while it lasts, and once when DPS answers', async () => {
      station.provision('SN1');
      // Tries at 0, 0.5, 1.5, 3.5 … s (backoff 1 s doubling to 5 min, jitter 0.5): the 13th, at
      // 705.5 s, is past the reminder; the 15th, at 1005.5 s, finds the certificate trusted.
      station.dps.failNext('bulkEnrollments', { kind: 'untrusted-certificate' }, 14);
      const worker = station.worker();
      const log = new SyncLog();
      const lines: string[] = [];
      worker.onStateChange.on((change) => {
        const text = log.line(change, worker.status().lastError);
        if (text !== undefined) lines.push(text);
      });
      worker.start();
      await stateReached(worker, 'backoff');
      await station.clock.advance(25_000);
      expect(station.dps.callsOf('bulkEnrollments').length).toBeGreaterThanOrEqual(5);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^DPS sync: syncing -> backoff: The station does not trust the issuer of the DPS server's certificate[^\n]*LINE_STATION_DPS_CA[^\n]*\[DPS_TLS_UNTRUSTED\]\n {2}detail: DPS_TLS_UNTRUSTED, UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
      );
      expect(lines[0]).not.toMatch(/for its host name/);

      await station.clock.advance(SYNC_LOG_REMINDER_MS - 25_000);
      expect(lines).toHaveLength(1); // the 12th try, at 555.5 s, was within 10 minutes
      await station.clock.advance(110_000); // 710 s
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(
        /\[DPS_TLS_UNTRUSTED\] \(still, since 2026-03-01T10:00:00\.000Z; 11 more try\(s\) ended in it since it was last logged\)\n {2}detail:/,
      );

      await station.clock.advance(5 * 60_000);
      expect(station.statuses()).toEqual(['synced']);
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe(
        'DPS sync: syncing -> idle: DPS answers again; the problem [DPS_TLS_UNTRUSTED] logged since 2026-03-01T10:00:00.000Z is over; 1 more try(s) ended in it',
      );
    });
  });
});

describe('SyncLog, for batches whose enrollments wait for a supervisor', () => {
  const start = Date.UTC(2026, 2, 1, 10);
  const batch = (n: number, offsetMs: number): SettledTrouble => ({
    settled: 100,
    conflicts: Array.from({ length: n }, (_, i) => `reg-${offsetMs}-${i}`),
    failed: [{ registrationId: `bad-${offsetMs}`, code: 'SYNC_DPS_REJECTED' }],
    at: new Date(start + offsetMs).toISOString(),
  });

  it('says each batch in one line, its IDs capped, the code and what to do per status', () => {
    const line = new SyncLog().trouble(batch(99, 0)) ?? '';
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(
      /^DPS sync: 100 of 100 enrollment\(s\) settled in a batch wait for a supervisor: 99 conflict \[SYNC_CONFLICT\]: reg-0-0, reg-0-1, reg-0-2, reg-0-3, reg-0-4 and 94 more \(DPS already holds these registration IDs/,
    );
    expect(line).toContain('station queue list --status conflict');
    expect(line).toContain(
      "; 1 failed [SYNC_DPS_REJECTED]: bad-0 (DPS refused these enrollments: station queue list --status failed shows DPS's reason",
    );
  });

  // A backlog of 10,000 conflicts is 100 batches: the log must not get 100 lines at once.
  it('logs at most 10 batches per 10 minutes, then sums the rest when the worker goes idle', () => {
    const log = new SyncLog();
    const lines = Array.from({ length: 100 }, (_, i) => log.trouble(batch(99, i * 1000)));
    expect(lines.filter((l) => l !== undefined)).toHaveLength(TROUBLE_LINES_PER_WINDOW);
    const idle = {
      previous: 'syncing',
      state: 'idle',
      at: new Date(start + 100_000).toISOString(),
    } as const;
    expect(log.line(idle, undefined)).toBe(
      `DPS sync: 90 more batch(es) since ${new Date(start + 10_000).toISOString()} left 8910 conflict [SYNC_CONFLICT], 90 failed [SYNC_DPS_REJECTED], not listed here to keep the log short: station queue list --status conflict (or failed) lists them all`,
    );
    expect(log.line(idle, undefined)).toBeUndefined();
  });

  it('says the sum while a long backlog is still being sent, once the window allows a line', () => {
    const log = new SyncLog();
    for (let i = 0; i < 12; i++) log.trouble(batch(1, i * 1000));
    expect(log.remind('syncing', undefined, start + 60_000)).toBeUndefined();
    expect(log.remind('syncing', undefined, start + SYNC_LOG_REMINDER_MS)).toMatch(
      /^DPS sync: 2 more batch\(es\) since \S+ left 2 conflict \[SYNC_CONFLICT\], 2 failed/,
    );
    expect(log.remind('syncing', undefined, start + SYNC_LOG_REMINDER_MS + 1)).toBeUndefined();
  });

  it('gives a backoff with no error its reason: enrollments waiting out their next try', () => {
    const log = new SyncLog();
    expect(log.line({ previous: 'syncing', state: 'backoff' }, undefined)).toBe(
      'DPS sync: syncing -> backoff: some enrollments wait for their next try; `station queue list` shows when',
    );
    expect(
      log.line({ previous: 'syncing', state: 'backoff' }, undefined, '2026-03-01T10:00:30.000Z'),
    ).toMatch(/next try \(calls held until 2026-03-01T10:00:30.000Z\)/);
  });
});

describe('SyncLog, when a problem is over', () => {
  it.each([
    ['SYNC_STORE_BUSY', 'the station database is free again'],
    ['SYNC_STORE_FAILED', 'the station database reads and records again'],
    ['SYNC_INTERNAL', 'the sync works again'],
    ['DPS_UNREACHABLE', 'DPS answers again'],
  ])('names what answers again after [%s]: %s', (code, words) => {
    const log = new SyncLog();
    const error = { code, message: 'It failed.', detail: 'why' };
    expect(log.line({ previous: 'syncing', state: 'backoff' }, error)).toBeDefined();
    expect(log.line({ previous: 'backoff', state: 'idle' }, undefined)).toMatch(
      new RegExp(`^DPS sync: backoff -> idle: ${words}; the problem \\[${code}\\] logged since`),
    );
  });
});
