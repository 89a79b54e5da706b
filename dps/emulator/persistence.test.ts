import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../auth/connectionString.js';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { call, registerDevice } from './emulatorTestKit.js';

let dir: string;
let file: string;
const running: DpsEmulator[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dps-emulator-'));
  file = join(dir, 'nested', 'emulator.sqlite');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<DpsEmulator> {
  const emulator = await startDpsEmulator({ storage: { file }, rateLimit: false });
  running.push(emulator);
  return emulator;
}

describe('file storage', () => {
  it('keeps enrollments, registrations, create counts, key, ID scope and CA across a restart', async () => {
    const first = await start();
    const created = await call(first, 'PUT', '/enrollments/dev-p1', {
      body: { registrationId: 'dev-p1', attestation: { type: 'symmetricKey' } },
    });
    const enrollment = created.body as {
      etag: string;
      attestation: { symmetricKey: { primaryKey: string } };
    };
    await call(first, 'DELETE', '/enrollments/dev-p1');
    const recreated = await call(first, 'PUT', '/enrollments/dev-p1', { body: created.body });
    const key = (recreated.body as typeof enrollment).attestation.symmetricKey.primaryKey;
    expect(key).toBe(enrollment.attestation.symmetricKey.primaryKey);
    expect((await registerDevice(first, 'dev-p1', { key })).final?.status).toBe(200);
    const before = {
      idScope: first.idScope,
      key: parseConnectionString(first.serviceConnectionString).sharedAccessKey,
      ca: first.caCertificatePem,
      enrollment: (await call(first, 'GET', '/enrollments/dev-p1')).body,
    };
    await first.close();

    const second = await start();
    expect(second.idScope).toBe(before.idScope);
    expect(parseConnectionString(second.serviceConnectionString).sharedAccessKey).toBe(before.key);
    expect(second.caCertificatePem).toBe(before.ca);
    // The old CA still verifies the restarted server (call() trusts caCertificatePem only).
    expect((await call(second, 'GET', '/enrollments/dev-p1')).body).toEqual(before.enrollment);
    expect((await call(second, 'GET', '/registrations/dev-p1')).body).toMatchObject({
      status: 'assigned',
    });
    expect(second.createCounts()).toEqual(new Map([['dev-p1', 2]]));
    expect(second.stats()).toMatchObject({
      enrollments: 1,
      enrollmentCreates: 2,
      duplicateCreates: 1,
      registrations: 1,
    });
    expect((await registerDevice(second, 'dev-p1', { key })).final?.status).toBe(200);
  });

  it('writes a WAL database with a schema version', async () => {
    const emulator = await start();
    await emulator.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });

  it('keeps memory storage to one run', async () => {
    const first = await startDpsEmulator({ rateLimit: false, idScope: '0ne00000042' });
    running.push(first);
    expect(first.idScope).toBe('0ne00000042');
    await call(first, 'PUT', '/enrollments/dev-m', {
      body: { registrationId: 'dev-m', attestation: { type: 'symmetricKey' } },
    });
    await first.close();
    const second = await startDpsEmulator({ rateLimit: false });
    running.push(second);
    expect(second.idScope).toMatch(/^0ne[0-9A-F]{8}$/);
    expect((await call(second, 'GET', '/enrollments/dev-m')).status).toBe(404);
  });
});
