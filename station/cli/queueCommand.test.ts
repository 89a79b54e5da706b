import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { reportCliError } from './cliError.js';
import { queue } from './queueCommand.js';
import { syncCommand } from './syncCommand.js';

let root: string;
let output: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'queue-command-'));
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

describe('reading the outbox of a data directory', () => {
  it('refuses a folder with no station instead of reporting an empty outbox', async () => {
    // A mistyped --data-dir, or `sudo` moving ~ to /root: an empty new database would say
    // "0 pending, 0 failed" and the supervisor would believe everything was synced.
    const typo = join(root, 'line-statoin');
    for (const run of [
      () => queue(['stats', '--data-dir', typo]),
      () => queue(['list', '--data-dir', typo]),
      () => queue(['export', '--format', 'csv', '--data-dir', typo]),
      () => syncCommand(() => ({}) as never)(['status', '--data-dir', typo]),
    ]) {
      await expect(run()).rejects.toMatchObject({
        code: 'STATION_NOT_CONFIGURED',
        message: expect.stringContaining(typo),
      });
    }
    expect(existsSync(typo)).toBe(false);
  });

  it('refuses a mistyped subcommand, --format, or requeue --status and --by as usage (2) before it looks for a station', async () => {
    const typo = join(root, 'no-station-here');
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    expect(await queue(['stat', '--data-dir', typo])).toBe(2);
    expect(errors.join('\n')).toContain('station queue: unknown subcommand "stat"');
    expect(await queue([])).toBe(2);
    expect(await queue(['export', '--format', 'xml', '--data-dir', typo])).toBe(2);
    expect(await queue(['export', '--data-dir', typo])).toBe(2);
    expect(errors.join('\n')).toContain('station queue export: --format must be csv or json');
    await expect(
      queue(['export', '--format', 'csv', '--force', '--data-dir', typo]),
    ).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringContaining('without --out'),
    });
    expect(await queue(['requeue', '--status', 'pending', '--by', 'sam', '--data-dir', typo])).toBe(
      2,
    );
    expect(errors.join('\n')).toContain('--status must be failed or conflict');
    expect(await queue(['requeue', '--status', 'failed', '--data-dir', typo])).toBe(2);
    expect(errors.join('\n')).toContain('--by NAME is required');
    expect(errors.join('\n')).not.toContain('no station');
    expect(existsSync(typo)).toBe(false);
  });

  it('reads the outbox of a station that has a database', async () => {
    openStationDatabase(join(root, 'station.db')).close();
    expect(await queue(['stats', '--data-dir', root])).toBe(0);
    expect(output.join('\n')).toMatch(/pending\s+0/);
  });
});

describe('station queue list', () => {
  let station: SyncTestStation;
  beforeEach(() => {
    station = new SyncTestStation();
  });
  afterEach(() => station.close());

  it('says the outbox is empty only when it is', async () => {
    expect(await queue(['list', '--data-dir', station.dir])).toBe(0);
    expect(await queue(['list', '--status', 'failed', '--data-dir', station.dir])).toBe(0);
    expect(output).toEqual(['The outbox is empty.', 'The outbox is empty.']);
  });

  it('says no row has the status asked for when the outbox holds others', async () => {
    // A supervisor looking for failures after everything synced must not read "empty".
    for (const serial of ['SN1', 'SN2', 'SN3']) station.provision(serial);
    const worker = station.worker();
    worker.start();
    await worker.syncNow();
    await worker.stop();
    expect(station.statuses()).toEqual(['synced', 'synced', 'synced']);
    expect(await queue(['list', '--status', 'failed', '--data-dir', station.dir])).toBe(0);
    expect(await queue(['list', '--status', 'conflict', '--data-dir', station.dir])).toBe(0);
    expect(output).toEqual([
      'No enrollment is failed (3 in the outbox).',
      'No enrollment is in conflict (3 in the outbox).',
    ]);
  });

  it('says what became of a superseded enrollment DPS held under an old registration ID', async () => {
    const earlier = station.provision('SN1');
    const later = station.provision('SN2');
    // The outbox as a re-provisioning under a new ID leaves it (migration 017), then the sync.
    const retire = station.db.prepare(`UPDATE enrollments SET status = 'superseded',
      superseded_by = ?, retirement = ?, retired_at = ? WHERE id = ?`);
    retire.run(later, 'due', null, earlier);
    expect(await queue(['list', '--status', 'superseded', '--data-dir', station.dir])).toBe(0);
    retire.run(later, 'disabled', '2026-12-06T10:00:00.000Z', earlier);
    expect(await queue(['list', '--status', 'superseded', '--data-dir', station.dir])).toBe(0);
    expect(output).toEqual([
      expect.stringMatching(
        / reg-sn1 {2}\(old ID in DPS: to be disabled \(deleted, under a group member's ID\) at the next sync\)$/,
      ),
      expect.stringMatching(/ reg-sn1 {2}\(old ID in DPS: disabled\)$/),
    ]);
  });
});

describe('station queue export', () => {
  let station: SyncTestStation;
  let errors: string[];
  beforeEach(() => {
    station = new SyncTestStation();
    errors = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    for (const serial of ['SN1', 'SN2']) station.provision(serial);
  });
  afterEach(() => station.close());

  const exportTo = (...args: string[]) =>
    queue(['export', '--format', 'csv', '--data-dir', station.dir, ...args]);
  const exportEvents = () =>
    station.db.prepare(`SELECT detail FROM audit_events WHERE kind = 'outbox.exported'`).all() as {
      detail: string;
    }[];

  it('says what it wrote to --out, as an absolute path, and the count of rows', async () => {
    const file = join(root, 'enrollments.csv');
    expect(await exportTo('--out', file)).toBe(0);
    expect(output).toEqual([`Wrote 2 enrollment(s) to ${file} (csv)`]);
    expect(readFileSync(file, 'utf8')).toMatch(/^id,registration_id,/);
    expect(readFileSync(file, 'utf8')).toContain('reg-sn2');

    output.length = 0;
    const json = join(root, 'failed.json');
    expect(
      await queue([
        'export',
        '--format',
        'json',
        '--status',
        'failed',
        '--out',
        json,
        '--data-dir',
        station.dir,
      ]),
    ).toBe(0);
    expect(output).toEqual([`Wrote 0 enrollment(s) to ${json} (json)`]);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual([]);
  });

  it('keeps standard output for the export itself: its line goes to stderr', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    expect(await exportTo()).toBe(0);
    expect(written.join('')).toMatch(/^id,registration_id,[^]*reg-sn1[^]*reg-sn2[^]*\r\n$/);
    expect(output).toEqual([]);
    expect(errors).toEqual(['Wrote 2 enrollment(s) to standard output (csv)']);
  });

  it('refuses a file that is there already, unless --force', async () => {
    const file = join(root, 'enrollments.csv');
    writeFileSync(file, "last week's report\n");
    await expect(exportTo('--out', file)).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: `--out ${file}: a file of that name is there already. Choose another name, or add --force to replace it.`,
    });
    expect(readFileSync(file, 'utf8')).toBe("last week's report\n");
    expect(output).toEqual([]);

    expect(await exportTo('--out', file, '--force')).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('reg-sn1');
    expect(output).toEqual([`Wrote 2 enrollment(s) to ${file} (csv)`]);
    // The export was written under a temporary name beside it, then renamed over the report.
    expect(readdirSync(root)).toEqual(['enrollments.csv']);
    expect(exportEvents().map((e) => JSON.parse(e.detail) as unknown)).toEqual([
      expect.objectContaining({ to: file, replaced: true }),
    ]);
  });

  it('hands nothing over when another program takes the database as the export is read', async () => {
    const file = join(root, 'enrollments.csv');
    // Another program's write transaction, begun after the command opened the database and
    // while it read the outbox: the export's event cannot be written, so neither the file nor
    // standard output gets the export (the trail would not show it).
    const read = ProvisioningStore.prototype.exportOutboxCounted;
    vi.spyOn(ProvisioningStore.prototype, 'exportOutboxCounted').mockImplementation(function (
      this: ProvisioningStore,
      ...args
    ) {
      const exported = read.apply(this, args);
      if (!station.db.inTransaction) station.db.exec('BEGIN IMMEDIATE');
      return exported;
    });
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await expect(exportTo('--out', file)).rejects.toMatchObject({ code: 'STORE_BUSY' });
      await expect(exportTo()).rejects.toMatchObject({ code: 'STORE_BUSY' });
    } finally {
      station.db.exec('ROLLBACK');
    }
    expect(existsSync(file)).toBe(false);
    expect(written).toEqual([]);
    expect(exportEvents()).toEqual([]);
  }, 20_000);

  it('refuses an --out in a missing folder as a usage error naming --out, recording nothing', async () => {
    const folder = join(root, 'no-such-folder');
    const file = join(folder, 'enrollments.csv');
    // Not a raw ENOENT naming the hidden .enrollments.csv.<pid>.partial beside it.
    const refused = await exportTo('--out', file).catch((err: unknown) => err);
    expect(refused).toMatchObject({
      code: 'CLI_USAGE',
      message: `--out ${file}: there is no folder ${folder}; create it, or give a path in a folder that exists`,
    });
    expect(reportCliError(refused)).toBe(2);
    expect(exportEvents()).toEqual([]);
    // A file where the folder should be is no folder either.
    writeFileSync(folder, '');
    await expect(exportTo('--out', file)).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: `--out ${file}: ${folder} is not a folder; give a path in one`,
    });
    const deeper = join(folder, 'sub', 'enrollments.csv');
    await expect(exportTo('--out', deeper)).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringContaining(`--out ${deeper}: there is no folder`),
    });
    expect(exportEvents()).toEqual([]);
    expect(await exportTo('--out', join(root, 'enrollments.csv'))).toBe(0);
    expect(exportEvents()).toHaveLength(1);
  });

  it('refuses a folder for --out, and --force without --out', async () => {
    const folder = join(root, 'reports');
    mkdirSync(folder);
    for (const args of [
      ['--out', folder],
      ['--out', folder, '--force'],
    ]) {
      await expect(exportTo(...args)).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: expect.stringContaining(`--out ${folder}: that is a folder`),
      });
    }
    await expect(exportTo('--force')).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringContaining('without --out'),
    });
  });
});

describe('station queue requeue --id', () => {
  let station: SyncTestStation;
  beforeEach(() => {
    station = new SyncTestStation();
  });
  afterEach(() => station.close());

  const requeue = (...ids: number[]) =>
    queue([
      'requeue',
      '--status',
      'failed',
      '--by',
      'sam',
      ...ids.flatMap((id) => ['--id', String(id)]),
      '--data-dir',
      station.dir,
    ]);

  it('says nothing matched an id that is no failed row, exits non-zero, and requeues nothing', async () => {
    const failed = station.provision('SN1');
    const pending = station.provision('SN2');
    station.db.prepare(`UPDATE enrollments SET status = 'failed' WHERE id = ?`).run(failed);

    const none = await requeue(99).catch((err: unknown) => err);
    expect(none).toMatchObject({
      code: 'QUEUE_REQUEUE_NO_MATCH',
      message:
        'Nothing was requeued: there is no enrollment 99. `station queue list --status failed` shows the ids that can be requeued.',
    });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(reportCliError(none)).toBe(1);
    // One id of two matches: neither goes back, so the supervisor is not left to guess which.
    await expect(requeue(failed, pending)).rejects.toMatchObject({
      code: 'QUEUE_REQUEUE_NO_MATCH',
      message: expect.stringContaining(`enrollment ${pending} is pending, not failed`),
    });
    expect(station.row(failed).status).toBe('failed');
    expect(output).toEqual([]);

    expect(await requeue(failed)).toBe(0);
    expect(station.row(failed).status).toBe('pending');
    expect(output).toEqual([
      '1 enrollment(s) back to pending: reg-sn1. The sync reads DPS before sending them.',
    ]);
  });
});

describe('station queue, an option its subcommand does not take', () => {
  let station: SyncTestStation;
  beforeEach(() => {
    station = new SyncTestStation();
  });
  afterEach(() => station.close());

  // One option set for every subcommand: `requeue --limit 1` requeued every failed row, and
  // `export --id 7` exported the whole outbox, each exiting 0.
  it('refuses it as a usage error, and acts on nothing', async () => {
    const failed = [station.provision('SN1'), station.provision('SN2')];
    for (const id of failed) {
      station.db.prepare(`UPDATE enrollments SET status = 'failed' WHERE id = ?`).run(id);
    }
    const out = join(root, 'outbox.csv');
    for (const [args, stray] of [
      [['requeue', '--status', 'failed', '--by', 'sam', '--limit', '1'], 'limit'],
      [['export', '--format', 'csv', '--out', out, '--id', '7'], 'id'],
      [['list', '--id', '5'], 'id'],
      [['stats', '--status', 'failed'], 'status'],
    ] as const) {
      const refused = await queue([...args, '--data-dir', station.dir]).catch(
        (err: unknown) => err,
      );
      expect(refused).toMatchObject({
        code: 'CLI_USAGE',
        message: `station queue ${args[0]}: --${stray} is not one of its options`,
      });
      vi.spyOn(console, 'error').mockImplementation(() => undefined);
      expect(reportCliError(refused)).toBe(2);
    }
    for (const id of failed) expect(station.row(id).status).toBe('failed');
    expect(existsSync(out)).toBe(false);
    expect(output).toEqual([]);
  });

  it('holds requeue --by to the name rule: a blank name is refused and nothing goes back', async () => {
    const failed = station.provision('SN1');
    station.db.prepare(`UPDATE enrollments SET status = 'failed' WHERE id = ?`).run(failed);
    const requeue = (...by: string[]) =>
      queue(['requeue', '--status', 'failed', ...by, '--data-dir', station.dir]);
    await expect(requeue('--by', '   ')).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: '--by is empty: give a name',
    });
    expect(station.row(failed).status).toBe('failed');
    // Still required: no operating-system name stands in for it here.
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    expect(await requeue()).toBe(2);
    expect(errors).toEqual([
      'station queue requeue: --by NAME is required (it goes into the audit trail)',
    ]);
    expect(station.row(failed).status).toBe('failed');
    expect(await requeue('--by', 'sam')).toBe(0);
    expect(station.row(failed).status).toBe('pending');
  });
});
