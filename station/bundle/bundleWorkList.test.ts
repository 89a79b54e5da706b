import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bundleCommand } from '../cli/bundleCommand.js';
import { migrations } from '../store/migrations/index.js';
import { openStationDatabase, migrate } from '../store/stationDatabase.js';
import { storeErrorText } from '../store/storeError.js';
import { InMemoryDps } from '../sync/testing/inMemoryDps.js';
import { fakeCertificatePem } from '../sync/testing/syncTestStation.js';
import type { BundlePayload } from './bundlePayload.js';
import { syncBundle } from './bundleSync.js';
import { listBundleWork, type BundleWorkListing } from './bundleWorkList.js';
import { bundleWorkStorePath, openBundleWorkStore } from './bundleWorkStore.js';
import {
  DPS_HOST,
  bundle,
  symmetricRow,
  wrapper,
  x509Body,
  x509Row,
} from './testing/bundleSyncTestKit.js';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'bundle-work-list-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dataDir, { recursive: true, force: true });
});

const NONE = { pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 };
const workFolder = () => join(dataDir, 'bundles');

/** Syncs `payload` to an in-memory DPS through the real syncBundle: its work store stays. */
async function synced(payload: BundlePayload, dps = new InMemoryDps()): Promise<string> {
  await syncBundle({ dataDir, payload, wrapper, dps, dpsHost: DPS_HOST });
  return bundleWorkStorePath(dataDir, payload.bundleId, DPS_HOST);
}

/** A work store filled and never sent (`bundle sync` stopped before DPS was called). */
async function notSent(payload: BundlePayload, dpsHost = DPS_HOST): Promise<string> {
  (await openBundleWorkStore(dataDir, payload, wrapper, dpsHost)).close();
  return bundleWorkStorePath(dataDir, payload.bundleId, dpsHost);
}

const setTime = (path: string, iso: string) => utimesSync(path, new Date(iso), new Date(iso));
const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const errorOf = (w: BundleWorkListing | undefined) => (w && 'error' in w ? w.error : undefined);

describe('listBundleWork', () => {
  it('gives each work store its bundle ID, DPS host, path and outbox counts by status', async () => {
    // One sync answered three ways: DPS holds reg-sn1 with another certificate, refuses reg-sn2.
    const dps = new InMemoryDps();
    dps.seed(x509Body('reg-sn1', fakeCertificatePem()));
    dps.refuseItem = (e) =>
      e.registrationId === 'reg-sn2' ? { errorCode: 400209, errorStatus: 'Invalid' } : undefined;
    const answered = bundle([x509Row(1, 'SN1'), x509Row(2, 'SN2'), x509Row(3, 'SN3')]);
    const answeredPath = await synced(answered, dps);
    const waiting = bundle([x509Row(4, 'SN4'), x509Row(5, 'SN5')]);
    const waitingPath = await notSent(waiting, 'DPS.Example.net:443');

    const listed = listBundleWork(dataDir);

    expect(listed).toHaveLength(2);
    expect(listed).toContainEqual({
      bundleId: answered.bundleId,
      dpsHost: DPS_HOST,
      path: answeredPath,
      modifiedAt: expect.any(String),
      counts: { ...NONE, synced: 1, failed: 1, conflict: 1 },
    });
    // The host as the file name holds it: lower case, the default port left out.
    expect(listed).toContainEqual({
      bundleId: waiting.bundleId,
      dpsHost: 'dps.example.net',
      path: waitingPath,
      modifiedAt: expect.any(String),
      counts: { ...NONE, pending: 2 },
    });
  });

  it('lists the stores newest first, by when each last changed', async () => {
    const [a, b, c] = [
      bundle([x509Row(1, 'SN1')]),
      bundle([x509Row(2, 'SN2')]),
      bundle([x509Row(3, 'SN3')]),
    ];
    setTime(await notSent(a), '2026-03-01T10:00:00.000Z');
    setTime(await notSent(b), '2026-03-03T10:00:00.000Z');
    setTime(await notSent(c), '2026-03-02T10:00:00.000Z');

    const listed = listBundleWork(dataDir);

    expect(listed.map((w) => w.bundleId)).toEqual([b.bundleId, c.bundleId, a.bundleId]);
    expect(listed[0]!.modifiedAt).toBe('2026-03-03T10:00:00.000Z');
  });

  it('counts a store being synced right now, dated by its WAL, and never lists -wal or -shm', async () => {
    const older = await notSent(bundle([x509Row(1, 'SN1')]));
    const newer = await notSent(bundle([x509Row(2, 'SN2')]));
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    setTime(older, daysAgo(2));
    setTime(newer, daysAgo(1));
    // A `bundle sync` at work on the older one: its commit is in the WAL, not yet in the file.
    const worker = openStationDatabase(older);
    try {
      worker.prepare(`UPDATE enrollments SET status = 'syncing' WHERE id = 1`).run();
      expect(readdirSync(workFolder())).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\.db-wal$/),
          expect.stringMatching(/\.db-shm$/),
        ]),
      );

      const listed = listBundleWork(dataDir);

      expect(listed.map((w) => w.path)).toEqual([older, newer]);
      expect(listed[0]).toMatchObject({ counts: { ...NONE, syncing: 1 } });
      expect(Date.parse(listed[0]!.modifiedAt!)).toBeGreaterThan(Date.parse(daysAgo(1)));
    } finally {
      worker.close();
    }
  });

  it('lists a garbage file named like a store with its coded error, and still the other stores', async () => {
    const good = await notSent(bundle([x509Row(1, 'SN1')]));
    writeFileSync(join(workFolder(), 'x@y.db'), randomBytes(8192));

    const listed = listBundleWork(dataDir);

    expect(listed).toHaveLength(2);
    expect(listed.find((w) => w.path === good)).toMatchObject({ counts: { ...NONE, pending: 1 } });
    const garbage = listed.find((w) => w.bundleId === 'x');
    expect(garbage).toMatchObject({ dpsHost: 'y', path: join(workFolder(), 'x@y.db') });
    expect(garbage).not.toHaveProperty('counts');
    expect(errorOf(garbage)).toMatchObject({
      code: 'STORE_DATABASE_CORRUPT',
      message: storeErrorText.STORE_DATABASE_CORRUPT,
    });
  });

  it('reports a store of a newer station as STORE_SCHEMA_NEWER and leaves its file as it was', async () => {
    const path = await notSent(bundle([x509Row(1, 'SN1')]));
    const raw = new Database(path);
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    const before = sha256Of(path);

    const [listed] = listBundleWork(dataDir);

    expect(errorOf(listed)).toMatchObject({ code: 'STORE_SCHEMA_NEWER' });
    expect(errorOf(listed)!.detail).toContain(`schema version ${migrations.length + 1}`);
    expect(sha256Of(path)).toBe(before);
  });

  it('reads a store of an older station as it is, without migrating it', () => {
    mkdirSync(workFolder());
    const path = join(workFolder(), 'old@dps.example.net.db');
    olderStoreWithOnePending(path, 11);

    expect(listBundleWork(dataDir)).toEqual([
      expect.objectContaining({ bundleId: 'old', counts: { ...NONE, pending: 1 } }),
    ]);
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(11);
    after.close();
  });

  it('leaves out every file not named <bundleId>@<host>.db, SQLite side files included', async () => {
    const store = await notSent(bundle([x509Row(1, 'SN1')]));
    for (const name of ['notes.txt', 'plain.db', 'a@b.db.bak', 'gone@host.db-journal']) {
      writeFileSync(join(workFolder(), name), 'not a store');
    }
    mkdirSync(join(workFolder(), 'old copies'));
    listBundleWork(dataDir); // reading a store leaves its -wal and -shm beside it
    expect(existsSync(`${store}-wal`) && existsSync(`${store}-shm`)).toBe(true);

    expect(listBundleWork(dataDir).map((w) => w.path)).toEqual([store]);
  });

  it('lists nothing, and creates nothing, when the data folder has no bundles/ folder', () => {
    expect(listBundleWork(dataDir)).toEqual([]);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe('station bundle list', () => {
  const station = bundleCommand(() => {
    throw new Error('bundle list calls no DPS');
  });
  let output: string[];

  beforeEach(() => {
    output = [];
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
      output.push(parts.join(' '));
    });
  });

  it('on a machine that only syncs: lists its work stores, and opens or creates no station database', async () => {
    const key = randomBytes(32).toString('base64');
    const payload = bundle([symmetricRow(1, 'SN1', key), x509Row(2, 'SN2')]);
    const path = await notSent(payload);
    const sealed = sealedSecretOf(path);

    expect(await station(['list', '--data-dir', dataDir])).toBe(0);
    const text = output.join('\n');
    expect(text).toContain('No bundle was exported from this station.');
    expect(text).toContain(`Bundles synced from this machine (work files under ${workFolder()}):`);
    expect(text).toMatch(
      new RegExp(
        `${payload.bundleId} {2}to ${DPS_HOST}: 0 synced, 0 failed, 0 conflict, 2 pending, 0 syncing`,
      ),
    );
    expect(text).toContain(`  ${path}`);
    expect(await station(['list', '--data-dir', dataDir, '--json'])).toBe(0);

    // Only counts come out of a store: neither the key nor any part of its sealed form.
    const printed = output.join('\n');
    for (const secret of [key, ...partsOf(sealed)]) expect(printed).not.toContain(secret);
    expect(existsSync(join(dataDir, 'station.db'))).toBe(false);
  });

  it('shows the DPS host with its port as written, not as the file name holds it', async () => {
    const payload = bundle([x509Row(1, 'SN1')]);
    const path = await notSent(payload, '127.0.0.1:8443');
    expect(path).toContain('@127.0.0.1_8443.db');

    expect(await station(['list', '--data-dir', dataDir])).toBe(0);
    expect(output.join('\n')).toContain(`${payload.bundleId}  to 127.0.0.1:8443: 0 synced,`);
    output = [];
    expect(await station(['list', '--data-dir', dataDir, '--json'])).toBe(0);
    const printed = JSON.parse(output.join('\n')) as { synced: { dpsHost: string }[] };
    expect(printed.synced.map((w) => w.dpsHost)).toEqual(['127.0.0.1:8443']);
  });

  it('--json prints { exported, synced }, a store that cannot be read with its error', async () => {
    const station1 = stationWithOneExport();
    const payload = bundle([x509Row(1, 'SN1')]);
    const path = await notSent(payload);
    writeFileSync(join(workFolder(), 'x@y.db'), randomBytes(8192));

    expect(await station(['list', '--data-dir', dataDir, '--json'])).toBe(0);

    const printed = JSON.parse(output.join('\n')) as Record<string, unknown>;
    expect(Object.keys(printed)).toEqual(['exported', 'synced']);
    expect(printed.exported).toEqual([expect.objectContaining({ id: station1, enrollments: 3 })]);
    expect(printed.synced).toEqual(
      expect.arrayContaining([
        {
          bundleId: payload.bundleId,
          dpsHost: DPS_HOST,
          path,
          modifiedAt: expect.any(String),
          counts: { ...NONE, pending: 1 },
        },
        expect.objectContaining({
          bundleId: 'x',
          error: expect.objectContaining({ code: 'STORE_DATABASE_CORRUPT' }),
        }),
      ]),
    );
  });

  it('prints both sections for a station that exported and synced; a damaged store shows its code', async () => {
    const exported = stationWithOneExport();
    await notSent(bundle([x509Row(1, 'SN1')]));
    writeFileSync(join(workFolder(), 'x@y.db'), randomBytes(8192));

    expect(await station(['list', '--data-dir', dataDir])).toBe(0);

    const text = output.join('\n');
    expect(text).toMatch(new RegExp(`${exported} {2}3 enrollment\\(s\\), 0 still pending`));
    expect(text).not.toContain('No bundle was exported');
    expect(text).toContain('Bundles synced from this machine');
    expect(text).toMatch(/x {2}to y: cannot be read \[STORE_DATABASE_CORRUPT\]/);
    expect(text).toContain(storeErrorText.STORE_DATABASE_CORRUPT);
  });

  it('a station with no bundles/ folder prints what it did before, and no synced section', async () => {
    openStationDatabase(join(dataDir, 'station.db')).close();

    expect(await station(['list', '--data-dir', dataDir])).toBe(0);
    expect(output).toEqual(['No bundle was exported from this station.']);

    output.length = 0;
    expect(await station(['list', '--data-dir', dataDir, '--json'])).toBe(0);
    expect(JSON.parse(output.join('\n'))).toEqual({ exported: [], synced: [] });
  });

  it('still refuses a folder with no station and no work stores (a mistyped --data-dir)', async () => {
    await expect(station(['list', '--data-dir', dataDir])).rejects.toMatchObject({
      code: 'STATION_NOT_CONFIGURED',
    });
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

/** The sealed key a work store holds for enrollment 1, to look for in what is printed. */
function sealedSecretOf(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT sealed_secret FROM enrollments WHERE id = 1').pluck().get() as string;
  } finally {
    db.close();
  }
}

/** The longer values of a sealed secret (ciphertext, wrapped key, salt…), each a needle. */
function partsOf(sealed: string): string[] {
  const values = Object.values(JSON.parse(sealed) as Record<string, unknown>);
  const parts = values.filter((v): v is string => typeof v === 'string' && v.length >= 16);
  expect(parts.length).toBeGreaterThan(0);
  return parts;
}

/** This data folder's station database, with one bundle it exported (written, no receipt). */
function stationWithOneExport(): string {
  const db = openStationDatabase(join(dataDir, 'station.db'));
  const id = 'a1b2c3d4-0000-4000-8000-000000000001';
  db.prepare(
    `INSERT INTO bundles (id, created_at, file, enrollments, written_at) VALUES (?, ?, ?, 3, ?)`,
  ).run(id, '2026-03-01T10:00:00.000Z', '/media/stick/line7.bundle', '2026-03-01T10:00:01.000Z');
  db.close();
  return id;
}

/** A work store as an older station wrote it: its first `applied` migrations, one pending row. */
function olderStoreWithOnePending(path: string, applied: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db, migrations.slice(0, applied));
  const at = '2026-03-01T10:00:00.000Z';
  const device = db
    .prepare(`INSERT INTO devices (serial_number, model, first_seen_at) VALUES ('SN1', 'm1', ?)`)
    .run(at).lastInsertRowid;
  const run = db
    .prepare(
      `INSERT INTO runs (port, profile, device_id, registration_id, state, started_at, finished_at)
       VALUES ('bundle:old', '(bundle)', ?, 'reg-sn1', 'pass', ?, ?)`,
    )
    .run(device, at, at).lastInsertRowid;
  db.prepare(
    `INSERT INTO enrollments (registration_id, device_id, run_id, attestation, body, created_at,
       updated_at) VALUES ('reg-sn1', ?, ?, 'x509-device-key', '{}', ?, ?)`,
  ).run(device, run, at, at);
  db.close();
}
