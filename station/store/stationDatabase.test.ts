import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrations } from './migrations/index.js';
import {
  closeStationDatabase,
  migrate,
  openStationDatabase,
  walLeftText,
} from './stationDatabase.js';

async function dbPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'ls-db-')), 'station.db');
}

describe('station database', () => {
  it('creates the schema on a new file in WAL mode with full sync, F_FULLFSYNC on macOS', async () => {
    const db = openStationDatabase(await dbPath());
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // What makes a sync reach the platter on macOS; without effect elsewhere.
    expect(db.pragma('fullfsync', { simple: true })).toBe(1);
    expect(db.pragma('checkpoint_fullfsync', { simple: true })).toBe(1);
    db.close();
  });

  it('is idempotent on reopen and keeps data', async () => {
    const path = await dbPath();
    const db = openStationDatabase(path);
    db.prepare(
      `INSERT INTO certificates (serial_number, registration_id, subject, fingerprint_sha256, not_before,
        not_after, profile, key_source, certificate_der, issued_at) VALUES ('01','r','CN=r','f','a','b','p','device',x'30','t')`,
    ).run();
    db.close();
    const again = openStationDatabase(path);
    expect(again.prepare('SELECT count(*) AS n FROM certificates').get()).toEqual({ n: 1 });
    again.close();
  });

  it('refuses a database from a newer station', async () => {
    const path = await dbPath();
    openStationDatabase(path).close();
    const db = openStationDatabase(path);
    db.pragma(`user_version = ${migrations.length + 1}`);
    expect(() => migrate(db, migrations)).toThrow(/newer than this station/);
    db.close();
  });

  it('rolls back a failing migration as a whole', async () => {
    const db = openStationDatabase(':memory:', { migrations: [] });
    const broken = [
      {
        version: 1,
        name: 'broken',
        up: (d: typeof db) => {
          d.exec('CREATE TABLE t (x INTEGER)');
          d.exec('THIS IS NOT SQL');
        },
      },
    ];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 't'`).get()).toBeUndefined();
    db.close();
  });

  it('skips a migration another process applied after this one read the version', async () => {
    const path = await dbPath();
    const first = new Database(path);
    const second = new Database(path);
    // The other process upgrades the file right after this one read its version (0).
    const read = first.pragma.bind(first);
    let raced = false;
    first.pragma = ((source: string, options?: Database.PragmaOptions) => {
      const result = read(source, options);
      if (!raced && source === 'user_version') {
        raced = true;
        migrate(second, migrations);
      }
      return result;
    }) as typeof first.pragma;

    expect(migrate(first, migrations)).toBe(migrations.length);
    expect(raced).toBe(true);
    expect(read('user_version', { simple: true })).toBe(migrations.length);
    first.close();
    second.close();
  });
});

describe('closing the station database', () => {
  it('folds the WAL into the file, and says why when it could not', async () => {
    const path = await dbPath();
    const writer = openStationDatabase(path);
    writer
      .prepare(
        `INSERT INTO audit_events (at, actor, kind, subject) VALUES ('t', 'station', 'k', 's')`,
      )
      .run();
    // A connection that may not write cannot checkpoint: SQLite fails it as an I/O error, as a
    // full disk would fail a writer's.
    const reader = new Database(path, { readonly: true });
    const failed = closeStationDatabase(reader);
    expect(failed).toEqual({
      walFolded: false,
      failure: expect.stringMatching(/I\/O error/) as string,
    });
    expect(reader.open).toBe(false);
    expect(walLeftText('/data/station.db', failed.failure)).toBe(
      'The station could not fold its -wal file into /data/station.db as it stopped (disk I/O error; check the disk that holds the data folder), so its -wal file keeps the latest devices until the next start: a backup now must copy station.db-wal with it.',
    );
    expect(walLeftText('/data/station.db', undefined)).toMatch(
      /^Another command was reading \/data\/station\.db as the station stopped, so/,
    );
    expect(closeStationDatabase(writer)).toEqual({ walFolded: true });
  });
});
