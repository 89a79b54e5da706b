import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../station/store/migrations/index.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import {
  migrate,
  openStationDatabase,
  openStationDatabaseToRead,
} from '../../station/store/stationDatabase.js';
import { beginDevice, corruptPagesOf } from './storeFaults.js';

const root = mkdtempSync(join(tmpdir(), 'ls-corrupt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;

/** A closed station database with `passes` devices in it, in a folder of its own. */
function stationWith(passes: number): string {
  const path = join(root, `station-${++folders}`, 'station.db');
  const db = openStationDatabase(path);
  const store = new ProvisioningStore(db);
  for (let i = 0; i < passes; i++) store.commitPass(beginDevice(db, store, `SN-${folders}-${i}`));
  db.close();
  return path;
}

const refusedAsCorrupt = (path: string) =>
  expect.objectContaining({
    code: 'STORE_DATABASE_CORRUPT',
    message: expect.stringContaining('restored from a backup'),
    detail: expect.stringContaining(path),
  });

describe('opening a station database that is damaged', () => {
  it.each([
    ['random bytes', (path: string) => writeFileSync(path, Buffer.alloc(65_536, 0x5a))],
    ['a text file', (path: string) => writeFileSync(path, 'profiles: not a database\n')],
    ['a zeroed header', (path: string) => writeFileSync(path, Buffer.alloc(100), { flag: 'r+' })],
    ['a file cut short', (path: string) => truncateSync(path, 3 * 4096)],
  ])('refuses %s with a code, the file named', (_name, damage) => {
    const path = stationWith(10);
    damage(path);
    expect(() => openStationDatabase(path)).toThrow(refusedAsCorrupt(path));
  });

  it('refuses pages overwritten in the middle, which SQLite alone opens without a word', () => {
    const path = stationWith(10);
    const db = openStationDatabase(path);
    corruptPagesOf(db, path, 'enrollments');
    db.close();
    expect(() => openStationDatabase(path)).toThrow(refusedAsCorrupt(path));
  });

  it("refuses another database's WAL beside it, and leaves both files untouched", () => {
    const path = stationWith(10);
    // Another station's WAL with three commits in it, copied while that station runs.
    const otherPath = join(root, 'other', 'station.db');
    const other = openStationDatabase(otherPath);
    const store = new ProvisioningStore(other);
    for (let i = 0; i < 60; i++) store.commitPass(beginDevice(other, store, `OTHER-${i}`));
    other.pragma('wal_checkpoint(TRUNCATE)');
    for (let i = 60; i < 63; i++) store.commitPass(beginDevice(other, store, `OTHER-${i}`));
    copyFileSync(`${otherPath}-wal`, `${path}-wal`);
    other.close();
    const before = [readFileSync(path), readFileSync(`${path}-wal`)];

    expect(() => openStationDatabase(path)).toThrow(refusedAsCorrupt(path));
    // A writable connection would have folded the foreign pages into the file at close.
    expect([readFileSync(path), readFileSync(`${path}-wal`)]).toEqual(before);
  });

  it('refuses a database from a newer station with its own code', () => {
    const path = stationWith(1);
    const db = openStationDatabase(path);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => openStationDatabase(path)).toThrow(
      expect.objectContaining({
        code: 'STORE_SCHEMA_NEWER',
        detail: `open ${path}: the database is at schema version ${migrations.length + 1}; this station knows up to ${migrations.length}`,
      }),
    );
  });
});

describe('opening a station database for a report (queue, runs, sync status)', () => {
  it('reads without the start check, which a damaged page still fails at the line start', () => {
    const path = stationWith(10);
    const writer = openStationDatabase(path);
    corruptPagesOf(writer, path, 'enrollments');
    writer.close();
    const before = readFileSync(path);

    const db = openStationDatabaseToRead(path);
    expect(db.readonly).toBe(true);
    expect(new ProvisioningStore(db).outboxCounts().pending).toBe(10);
    // A report cannot write, even by mistake.
    expect(() => db.prepare(`DELETE FROM audit_events`).run()).toThrow(/readonly/i);
    db.close();
    expect(readFileSync(path)).toEqual(before);
    expect(() => openStationDatabase(path)).toThrow(refusedAsCorrupt(path));
  });

  it('leaves a foreign WAL and the database as they are: it never writes the WAL back', () => {
    const path = stationWith(5);
    const otherPath = join(root, 'other-for-read', 'station.db');
    const other = openStationDatabase(otherPath);
    const store = new ProvisioningStore(other);
    for (let i = 0; i < 3; i++) store.commitPass(beginDevice(other, store, `OTHER-${i}`));
    copyFileSync(`${otherPath}-wal`, `${path}-wal`);
    other.close();
    const before = [readFileSync(path), readFileSync(`${path}-wal`)];

    let db: Database.Database | undefined;
    try {
      db = openStationDatabaseToRead(path);
      new ProvisioningStore(db).outboxCounts();
    } catch {
      // Reading the foreign pages may fail; what matters is that nothing was written.
    } finally {
      db?.close();
    }
    expect([readFileSync(path), readFileSync(`${path}-wal`)]).toEqual(before);
  });

  it('brings a database at an older schema up to date first, as the writer does', () => {
    const path = join(root, 'older', 'station.db');
    mkdirSync(join(root, 'older'));
    const old = new Database(path);
    migrate(old, migrations.slice(0, 7));
    old.close();
    const db = openStationDatabaseToRead(path);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    db.close();
  });
});

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');

describe('station queue stats on a damaged database', () => {
  it('says so with the code and what to do, without a stack trace', async () => {
    const dataDir = join(root, 'cli');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'station.db'), 'not a database at all\n');
    const result = await run(TSX, [CLI, 'queue', 'stats', '--data-dir', dataDir]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[STORE_DATABASE_CORRUPT]');
    expect(result.stderr).toContain('must be restored from a backup');
    expect(result.stderr).toContain(`detail: open ${join(dataDir, 'station.db')}`);
    expect(result.stderr).not.toMatch(/SqliteError|\n\s+at /);
  });
});
