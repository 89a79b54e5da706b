import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DpsEmulator, startDpsEmulator } from './dpsEmulator.js';
import { call } from './emulatorTestKit.js';

/**
 * The emulator refuses an initialTwin that breaks IoT Hub's twin rules (dps/service/twinRules.ts)
 * as real DPS may, so a test against it cannot pass a twin the cloud refuses.
 */

let emulator: DpsEmulator;
beforeAll(async () => {
  emulator = await startDpsEmulator({ rateLimit: false });
});
afterAll(() => emulator.close());

const enrollment = (registrationId: string, initialTwin: unknown) => ({
  registrationId,
  attestation: { type: 'symmetricKey' },
  initialTwin,
});

/** `levels` objects nested below the section. */
function nested(levels: number): Record<string, unknown> {
  let value: unknown = 'value';
  for (let level = levels; level >= 1; level--) value = { [`l${level}`]: value };
  return { top: value };
}

describe('initialTwin of an individual enrollment', () => {
  it.each([
    [
      'a dot in a tag name',
      { tags: { 'fw.version': '1.4.2' } },
      'initialTwin.tags["fw.version"]: this property name contains a dot (.)',
    ],
    [
      'a dollar sign in a desired name',
      { properties: { desired: { $interval: 5 } } },
      'initialTwin.properties.desired.$interval: this property name contains a dollar sign ($)',
    ],
    [
      'a space in a nested name',
      { tags: { site: { 'line a': 1 } } },
      'initialTwin.tags.site["line a"]: this property name contains a space',
    ],
    [
      'a control character in a name',
      { tags: { 'a\u0000b': 1 } },
      'this property name contains a control character',
    ],
    [
      'a name over 1 KB',
      { tags: { ['k'.repeat(1025)]: 1 } },
      'this property name is 1025 bytes long',
    ],
    [
      'a value over 4 KB',
      { properties: { desired: { note: 'x'.repeat(4097) } } },
      'initialTwin.properties.desired.note: this text is 4097 bytes long',
    ],
    [
      'objects nested 11 levels',
      { tags: nested(11) },
      'initialTwin.tags.top.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10: this object is nested 11 levels deep',
    ],
    [
      'tags over 8 KB',
      { tags: { a: 'x'.repeat(4000), b: 'x'.repeat(4000), c: 'x'.repeat(200) } },
      'initialTwin.tags: the tags take 8222 bytes as JSON; IoT Hub allows at most 8192 bytes (8 KB).',
    ],
    [
      'desired properties over 32 KB',
      {
        properties: {
          desired: Object.fromEntries(
            Array.from({ length: 9 }, (_, i) => [`k${i}`, 'x'.repeat(4000)]),
          ),
        },
      },
      'initialTwin.properties.desired: the desired properties take',
    ],
    ['tags that are not an object', { tags: 'line-a' }, 'initialTwin.tags must be a JSON object.'],
  ])('a PUT with %s answers 400 and stores nothing', async (_name, twin, expected) => {
    const reply = await call(emulator, 'PUT', '/enrollments/twin-bad', {
      body: enrollment('twin-bad', twin),
    });
    expect(reply.status).toBe(400);
    expect(reply.headers['x-ms-error-code']).toBe('400004');
    const body = reply.body as Record<string, unknown>;
    expect(body).toMatchObject({ errorCode: 400004 });
    expect(typeof body.trackingId).toBe('string');
    expect(body.message).toContain(expected);
    expect((await call(emulator, 'GET', '/enrollments/twin-bad')).status).toBe(404);
  });

  it('accepts a twin at the limits, and the $metadata and $version DPS itself returns', async () => {
    const twin = {
      tags: { ['k'.repeat(1024)]: 1, deep: nested(9), a: 'x'.repeat(4096) },
      properties: {
        desired: { interval: 30, $metadata: { $lastUpdated: '2026-01-01T00:00:00Z' }, $version: 1 },
      },
    };
    const put = await call(emulator, 'PUT', '/enrollments/twin-ok', {
      body: enrollment('twin-ok', twin),
    });
    expect(put.status).toBe(200);
    expect((put.body as Record<string, unknown>).initialTwin).toEqual(twin);
  });
});
