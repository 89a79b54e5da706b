import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { audit } from './auditCommand.js';
import { zonedLocalTime } from './timeFlags.js';

const AT = new Date('2026-12-05T18:00:00.000Z');

let root: string;
let output: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'audit-command-'));
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

/** A station whose trail holds a failed run and then an unlock. */
function station(): void {
  const db = openStationDatabase(join(root, 'station.db'));
  const store = new ProvisioningStore(db, { now: () => AT });
  const runId = store.beginRun('/dev/ttyUSB1', 'line7', AT.getTime() - 1_000, 'auto');
  store.recordFailure(runId, {
    state: 'fail',
    error: { code: 'WIRE_TIMEOUT', message: 'The device did not answer.' },
    steps: [],
    finishedAt: AT.getTime(),
  });
  store.recordLineUnlocked({ profile: 'line7', wrongTriesBefore: 2 });
  db.close();
}

describe('station audit', () => {
  it('lists the trail newest first, one line per event with its detail', async () => {
    station();
    expect(await audit(['--data-dir', root])).toBe(0);
    expect(output).toHaveLength(2);
    expect(output[0]).toBe(
      `${zonedLocalTime(AT.toISOString())}  line.unlocked         line  station  {"profile":"line7","wrongTriesBefore":2,"via":"the unlock form at the workstation"}`,
    );
    expect(output[1]).toContain('run.failed');
  });

  it('narrows to one kind and a number of events, and prints JSON for a script', async () => {
    station();
    expect(await audit(['--kind', 'run.failed', '--json', '--data-dir', root])).toBe(0);
    const events = JSON.parse(output.join('\n')) as { kind: string }[];
    expect(events.map((event) => event.kind)).toEqual(['run.failed']);
    output = [];
    expect(await audit(['--limit', '1', '--data-dir', root])).toBe(0);
    expect(output).toHaveLength(1);
    output = [];
    expect(await audit(['--kind', 'line.unlock', '--data-dir', root])).toBe(0);
    expect(output).toEqual([
      'No audit event of kind "line.unlock". The trail holds: line.unlocked, run.failed.',
    ]);
  });

  it('says so when the trail is empty', async () => {
    openStationDatabase(join(root, 'station.db')).close();
    expect(await audit(['--kind', 'run.failed', '--data-dir', root])).toBe(0);
    expect(output).toEqual(['The audit trail is empty.']);
  });

  it('refuses what it would not apply, before it opens anything', async () => {
    await expect(audit(['show', '3', '--data-dir', root])).rejects.toMatchObject({
      code: 'CLI_USAGE',
    });
    await expect(audit(['--limit', 'all', '--data-dir', root])).rejects.toMatchObject({
      code: 'CLI_USAGE',
    });
  });

  it('refuses a negative --limit in its own words, not as an ambiguous option', async () => {
    // node:util parseArgs reads "-1" as an option: the flag's own check must still answer.
    for (const args of [['--limit', '-1'], ['--limit=-1']]) {
      await expect(audit([...args, '--data-dir', root])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: '--limit must be a whole number of at least 1, not "-1"',
      });
    }
  });
});
