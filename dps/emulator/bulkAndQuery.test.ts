import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { call } from './emulatorTestKit.js';

let emulator: DpsEmulator;

beforeEach(async () => {
  emulator = await startDpsEmulator({ rateLimit: false });
});
afterEach(() => emulator.close());

const item = (registrationId: string, extra: Record<string, unknown> = {}) => ({
  registrationId,
  attestation: { type: 'symmetricKey' },
  ...extra,
});

const bulk = (mode: string, enrollments: unknown[]) =>
  // The Node SDK posts bulk operations with a trailing slash.
  call(emulator, 'POST', '/enrollments/', { body: { mode, enrollments } });

describe('bulk enrollment operations', () => {
  it('applies each item on its own and reports per-item errors with HTTP 200', async () => {
    await call(emulator, 'PUT', '/enrollments/dev-2', { body: item('dev-2') });
    const reply = await bulk('create', [
      item('dev-1'),
      item('dev-2'),
      item('Bad Id'),
      item('dev-3', { iotHubs: ['not-linked.azure-devices.net'] }),
      item('dev-4'),
    ]);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      isSuccessful: false,
      errors: [
        { registrationId: 'dev-2', errorCode: 409201, errorStatus: expect.any(String) },
        { registrationId: 'Bad Id', errorCode: 400004, errorStatus: expect.any(String) },
        { registrationId: 'dev-3', errorCode: 400004, errorStatus: expect.any(String) },
      ],
    });
    expect((await call(emulator, 'GET', '/enrollments/dev-1')).status).toBe(200);
    expect((await call(emulator, 'GET', '/enrollments/dev-4')).status).toBe(200);
    expect((await call(emulator, 'GET', '/enrollments/dev-3')).status).toBe(404);
    expect(emulator.stats()).toMatchObject({ enrollments: 3, enrollmentCreates: 3 });
  });

  it('compares modes case-insensitively: update, updateIfMatchEtag, delete', async () => {
    const created = await call(emulator, 'PUT', '/enrollments/dev-1', { body: item('dev-1') });
    const etag = (created.body as { etag: string }).etag;
    const update = await bulk('UPDATE', [item('dev-1', { deviceId: 'one' }), item('dev-5')]);
    expect(update.body).toEqual({ isSuccessful: true, errors: [] });
    const current = (await call(emulator, 'GET', '/enrollments/dev-1')).body as {
      etag: string;
      deviceId: string;
    };
    expect(current.deviceId).toBe('one');

    const conditional = await bulk('updateIfMatchEtag', [
      item('dev-1', { etag, deviceId: 'stale' }),
      item('dev-5', { etag: 'bm90LXRoZS1ldGFn' }),
    ]);
    expect(conditional.body).toMatchObject({
      isSuccessful: false,
      errors: [
        { registrationId: 'dev-1', errorCode: 412201 },
        { registrationId: 'dev-5', errorCode: 412201 },
      ],
    });
    const matching = await bulk('updateIfMatchETag', [
      item('dev-1', { etag: current.etag, deviceId: 'two' }),
    ]);
    expect(matching.body).toEqual({ isSuccessful: true, errors: [] });

    const removal = await bulk('Delete', [item('dev-1'), item('dev-missing')]);
    expect(removal.body).toMatchObject({
      isSuccessful: false,
      errors: [{ registrationId: 'dev-missing', errorCode: 404201 }],
    });
    expect((await call(emulator, 'GET', '/enrollments/dev-1')).status).toBe(404);
  });

  it('refuses more than 10 items, no items and an unknown mode with 400, applying nothing', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => item(`dev-${i}`));
    const tooMany = await bulk('create', eleven);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ errorCode: 400005 });
    expect((await bulk('create', [])).status).toBe(400);
    expect((await bulk('upsert', [item('dev-1')])).status).toBe(400);
    expect(emulator.stats().enrollments).toBe(0);
    const ten = await bulk('create', eleven.slice(0, 10));
    expect(ten.body).toEqual({ isSuccessful: true, errors: [] });
  });

  it('runs bulk group operations and names failed items by enrollmentGroupId', async () => {
    const group = (id: string) => ({
      enrollmentGroupId: id,
      attestation: { type: 'symmetricKey' },
    });
    const reply = await call(emulator, 'POST', '/enrollmentGroups', {
      body: { mode: 'create', enrollmentGroups: [group('g-1'), group('g-1')] },
    });
    expect(reply.body).toMatchObject({
      isSuccessful: false,
      errors: [{ enrollmentGroupId: 'g-1', errorCode: 409201 }],
    });
  });

  it('counts re-creations of a deleted id as duplicate creates', async () => {
    await bulk('create', [item('dev-1'), item('dev-2')]);
    await bulk('delete', [item('dev-1')]);
    await bulk('create', [item('DEV-1')]);
    expect(emulator.createCounts()).toEqual(
      new Map([
        ['dev-1', 2],
        ['dev-2', 1],
      ]),
    );
    expect(emulator.stats()).toMatchObject({
      enrollments: 2,
      enrollmentCreates: 3,
      duplicateCreates: 1,
    });
  });
});

describe('queries', () => {
  it('pages with x-ms-max-item-count and x-ms-continuation, omitting it on the last page', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `dev-${i}`);
    await bulk(
      'create',
      ids.map((id) => item(id)),
    );
    const seen: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const reply = await call(emulator, 'POST', '/enrollments/query', {
        body: { query: 'SELECT * FROM enrollments' },
        headers: {
          'x-ms-max-item-count': '3',
          ...(continuation ? { 'x-ms-continuation': continuation } : {}),
        },
      });
      expect(reply.status).toBe(200);
      expect(reply.headers['x-ms-item-type']).toBe('Enrollment');
      const items = reply.body as { registrationId: string }[];
      seen.push(...items.map((e) => e.registrationId));
      continuation = reply.headers['x-ms-continuation'] as string | undefined;
      pages += 1;
    } while (continuation !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('returns everything in one page without a page size, and refuses a forged token', async () => {
    await bulk('create', [item('dev-a'), item('dev-b')]);
    const reply = await call(emulator, 'POST', '/enrollments/query', { body: { query: '*' } });
    expect(reply.body).toHaveLength(2);
    expect(reply.headers['x-ms-continuation']).toBeUndefined();
    const forged = await call(emulator, 'POST', '/enrollments/query', {
      body: { query: '*' },
      headers: { 'x-ms-continuation': 'not-a-token' },
    });
    expect(forged.status).toBe(400);
  });

  it('queries enrollment groups and a group’s registration states', async () => {
    await call(emulator, 'PUT', '/enrollmentGroups/g-1', {
      body: { enrollmentGroupId: 'g-1', attestation: { type: 'symmetricKey' } },
    });
    const groups = await call(emulator, 'POST', '/enrollmentGroups/query', {
      body: { query: 'SELECT * FROM enrollmentGroups' },
    });
    expect(groups.headers['x-ms-item-type']).toBe('EnrollmentGroup');
    expect(groups.body).toMatchObject([{ enrollmentGroupId: 'g-1' }]);
    const states = await call(emulator, 'POST', '/registrations/g-1/query', {
      body: { query: 'SELECT * FROM registrations' },
    });
    expect(states.status).toBe(200);
    expect(states.headers['x-ms-item-type']).toBe('DeviceRegistration');
    expect(states.body).toEqual([]);
  });
});
