/**
 * The locked line's own rules, with the line it opens stood in by the API's recording line: the
 * real opening (CA, store, ports) is tested end to end in test/e2e/lockedStart.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RecordingLine } from '../api/recordingLine.test-double.js';
import type { RunningStation } from '../api/stationFactory.js';
import type { StationStatus } from '../line/lineController.js';
import type { SlotView } from '../line/lineTypes.js';
import { LockedLine, LOCKED_NOTE } from './lockedLine.js';

const RIGHT = 'the right passphrase';
const wrongPassphrase = () =>
  Object.assign(new Error('The CA passphrase is wrong.'), { code: 'CUSTODY_WRONG_PASSPHRASE' });

function lockedLine(
  open?: (passphrase: string) => Promise<RunningStation>,
  recordWrongPassphrase: (inARow: number, waitMs: number | undefined) => void = () => {},
) {
  let now = 1_000_000;
  const logs: string[] = [];
  const inner = new RecordingLine();
  let stops = 0;
  const line = new LockedLine({
    status: {
      demo: false,
      profile: 'sensor',
      mode: 'auto',
      ca: { locked: true, subject: 'CN=Line CA', daysLeft: 300 },
    },
    outbox: { pending: 4, syncing: 0, synced: 9, failed: 1, conflict: 0 },
    open:
      open ??
      ((passphrase) =>
        passphrase === RIGHT
          ? Promise.resolve({ line: inner, stop: async () => void (stops += 1) })
          : Promise.reject(wrongPassphrase())),
    recordWrongPassphrase,
    log: (text) => logs.push(text),
    now: () => now,
  });
  return {
    line,
    inner,
    logs,
    stops: () => stops,
    advance: (ms: number) => void (now += ms),
  };
}

async function codeOf(call: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof call === 'function' ? call() : call);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('LockedLine', () => {
  it('shows the line it will run, with no slots, and refuses every line command', async () => {
    const { line } = lockedLine();
    expect(line.status()).toEqual({
      demo: false,
      profile: 'sensor',
      mode: 'auto',
      ca: { locked: true, subject: 'CN=Line CA', daysLeft: 300 },
      notes: [LOCKED_NOTE],
      awaitingPassphrase: true,
    });
    expect(line.slots()).toEqual([]);
    // A query like the slots: nothing to list yet, no refusal.
    expect(line.recentRuns({ limit: 20, failedOnly: false })).toEqual([]);
    expect(line.outboxCounts()).toEqual({
      pending: 4,
      syncing: 0,
      synced: 9,
      failed: 1,
      conflict: 0,
    });
    for (const command of [
      () => line.provision(1),
      () => line.cancel(1),
      () => line.setMode('manual'),
      () => line.controlSync('now'),
    ]) {
      expect(await codeOf(command)).toBe('LINE_LOCKED');
    }
  });

  it('once unlocked, is the line it opened: its state, its commands, its events', async () => {
    const { line, inner } = lockedLine();
    const statuses: StationStatus[] = [];
    const slots: SlotView[] = [];
    line.onStatusChanged.on((s) => statuses.push(s));
    line.onSlotChanged.on((s) => slots.push(s));
    await line.unlock(RIGHT);
    // Every UI drew the locked line: the running one is pushed whole.
    expect(statuses).toEqual([inner.status()]);
    expect(slots.map((s) => s.slot)).toEqual([1, 2]);
    expect(line.status().awaitingPassphrase).toBeUndefined();
    expect(line.slots()).toBe(inner.slots());
    inner.runs = [
      {
        runId: 3,
        port: '/dev/pts/1',
        state: 'pass',
        startedAt: '2026-01-05T06:00:00.000Z',
        finishedAt: '2026-01-05T06:00:09.000Z',
      },
    ];
    expect(line.recentRuns({ limit: 5, failedOnly: false })).toBe(inner.runs);
    line.provision(2);
    line.setMode('manual');
    expect(inner.calls).toEqual(['recentRuns 5', 'provision 2', 'setMode manual']);
    expect(statuses.at(-1)?.mode).toBe('manual');
    expect(await codeOf(line.unlock(RIGHT))).toBe('STATION_NOT_LOCKED');
  });

  it('makes the next try wait after three wrong passphrases in a row, longer with each', async () => {
    const { line, advance, logs } = lockedLine();
    for (let i = 0; i < 3; i++) {
      expect(await codeOf(line.unlock('wrong'))).toBe('CUSTODY_WRONG_PASSPHRASE');
    }
    // The third wrong one set a wait of 10 s: even the right passphrase waits it out.
    expect(await codeOf(line.unlock(RIGHT))).toBe('STATION_UNLOCK_WAIT');
    advance(10_000);
    expect(await codeOf(line.unlock('wrong'))).toBe('CUSTODY_WRONG_PASSPHRASE');
    advance(19_000);
    const refused = await line.unlock(RIGHT).catch((err: Error) => err);
    expect(refused).toMatchObject({ code: 'STATION_UNLOCK_WAIT' });
    expect((refused as Error).message).toContain('try again in 1 s');
    advance(1_000);
    await line.unlock(RIGHT);
    expect(logs).toContain('A wrong CA passphrase was typed to unlock the line (4 in a row).');
    expect(logs.join('\n')).not.toContain(RIGHT);
  });

  it('records each wrong passphrase as it is typed, with the wait it set', async () => {
    const recorded: [number, number | undefined][] = [];
    const { line, advance } = lockedLine(undefined, (inARow, waitMs) =>
      recorded.push([inARow, waitMs]),
    );
    for (let i = 0; i < 3; i++) await codeOf(line.unlock('wrong'));
    // A try refused for its wait never reached the CA: nothing to record.
    expect(await codeOf(line.unlock('wrong'))).toBe('STATION_UNLOCK_WAIT');
    advance(10_000);
    await codeOf(line.unlock('wrong'));
    expect(recorded).toEqual([
      [1, undefined],
      [2, undefined],
      [3, 10_000],
      [4, 20_000],
    ]);
    advance(20_000);
    await line.unlock(RIGHT);
    expect(recorded).toHaveLength(4);
  });

  it('answers a wrong passphrase the same when the audit trail refuses it, and logs why', async () => {
    const { line, logs } = lockedLine(undefined, () => {
      throw Object.assign(new Error('The station database is read-only.'), {
        code: 'STORE_READ_ONLY',
      });
    });
    expect(await codeOf(line.unlock('wrong'))).toBe('CUSTODY_WRONG_PASSPHRASE');
    expect(logs).toContain(
      'The wrong passphrase was not written to the audit trail: The station database is read-only. (STORE_READ_ONLY)',
    );
    await line.unlock(RIGHT);
    expect(line.unlocked).toBe(true);
  });

  it('takes one passphrase at a time', async () => {
    let finish!: () => void;
    const inner = new RecordingLine();
    const { line } = lockedLine(
      () =>
        new Promise((resolve) => {
          finish = () => resolve({ line: inner, stop: async () => undefined });
        }),
    );
    const first = line.unlock(RIGHT);
    expect(await codeOf(line.unlock(RIGHT))).toBe('STATION_UNLOCK_BUSY');
    finish();
    await first;
    expect(line.unlocked).toBe(true);
  });

  it('keeps a failure other than the passphrase in its notes, and may be unlocked again', async () => {
    let attempt = 0;
    const inner = new RecordingLine();
    const { line } = lockedLine(async () => {
      attempt += 1;
      if (attempt === 1) {
        throw Object.assign(new Error('The station database is damaged.'), {
          code: 'STORE_DATABASE_CORRUPT',
        });
      }
      return { line: inner, stop: async () => undefined };
    });
    expect(await codeOf(line.unlock(RIGHT))).toBe('STORE_DATABASE_CORRUPT');
    expect(line.status().notes).toEqual([
      LOCKED_NOTE,
      'The last unlock failed: The station database is damaged. (STORE_DATABASE_CORRUPT)',
    ]);
    await line.unlock(RIGHT);
    expect(line.unlocked).toBe(true);
  });

  it('logs the cause of a failure that has no code of its own', async () => {
    const { line, logs } = lockedLine(() =>
      Promise.reject(new Error('LINE_STATION_DPS_CA names /etc/dps-ca.pem, which cannot be read')),
    );
    await expect(line.unlock(RIGHT)).rejects.toThrow('LINE_STATION_DPS_CA names');
    expect(logs.at(-1)).toBe(
      'The line did not start: LINE_STATION_DPS_CA names /etc/dps-ca.pem, which cannot be read',
    );
  });

  it('stops the line it opened; a stop during the opening closes it as soon as it opens', async () => {
    const unlocked = lockedLine();
    await unlocked.line.unlock(RIGHT);
    await unlocked.line.stop();
    expect(unlocked.stops()).toBe(1);

    let finish!: () => void;
    let stopped = 0;
    const { line } = lockedLine(
      () =>
        new Promise((resolve) => {
          finish = () =>
            resolve({ line: new RecordingLine(), stop: async () => void (stopped += 1) });
        }),
    );
    const opening = line.unlock(RIGHT);
    const stopping = line.stop();
    finish();
    expect(await codeOf(opening)).toBe('LINE_STOPPED');
    await stopping;
    expect(stopped).toBe(1);
    expect(line.unlocked).toBe(false);
    expect(await codeOf(line.unlock(RIGHT))).toBe('LINE_STOPPED');
  });
});
