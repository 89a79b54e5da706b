import { describe, expect, it } from 'vitest';
import { parseProfiles, ProfileError } from './loadProfiles.js';

/**
 * A profile's initialTwin keeps IoT Hub's twin rules (dps/service/twinRules.ts): DPS writes it
 * into the hub's twin at registration, so a twin the hub refuses must be refused here, with the
 * field named, before any device is provisioned with it.
 */

const profile = (initialTwin: unknown) => ({
  name: 'Sensor A',
  models: ['SENSOR-A'],
  dps: { idScope: '0ne0012AB34' },
  attestation: { mode: 'x509-device-key' },
  initialTwin,
});

const parse = (initialTwin: unknown) =>
  parseProfiles(JSON.stringify({ profiles: [profile(initialTwin)] }), 'line-a.json');

function errorFor(initialTwin: unknown): ProfileError {
  try {
    parse(initialTwin);
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected the twin to be refused');
}

/** `{"one": {"two": … {"<levels>": leaf}}}`: `levels` objects nested below the section. */
function nested(levels: number, leaf: unknown = 'value'): Record<string, unknown> {
  let value: unknown = leaf;
  for (let level = levels; level >= 1; level--) value = { [`l${level}`]: value };
  return { top: value };
}

/** An object whose compact JSON is exactly `bytes` bytes, with no value over 4 KB. */
function ofSize(bytes: number): Record<string, unknown> {
  const out: Record<string, string> = {};
  let index = 0;
  while (JSON.stringify(out).length < bytes) {
    const key = `k${index++}`;
    const room = bytes - JSON.stringify({ ...out, [key]: '' }).length;
    out[key] = 'x'.repeat(Math.max(0, Math.min(4000, room)));
  }
  expect(Buffer.byteLength(JSON.stringify(out))).toBe(bytes);
  return out;
}

describe("a profile's initialTwin keeps IoT Hub's twin rules", () => {
  it.each([
    [
      'a dot in a tag name',
      { tags: { 'fw.version': '1.4.2' } },
      'profiles[0].initialTwin.tags["fw.version"]: this property name contains a dot (.); IoT Hub twin property names may not contain dots, dollar signs, spaces or control characters',
    ],
    [
      'a dollar sign in a desired property name',
      { desiredProperties: { $interval: 30 } },
      'profiles[0].initialTwin.desiredProperties.$interval: this property name contains a dollar sign ($)',
    ],
    [
      'a space in a nested name',
      { tags: { site: { 'line a': 1 } } },
      'profiles[0].initialTwin.tags.site["line a"]: this property name contains a space',
    ],
    [
      'a C0 control character in a name',
      { tags: { 'a\tb': 1 } },
      'profiles[0].initialTwin.tags["a\\tb"]: this property name contains a control character',
    ],
    [
      'a C1 control character in a desired name',
      { desiredProperties: { 'a\u0085b': 1 } },
      'this property name contains a control character',
    ],
    [
      'a name over 1 KB',
      { tags: { ['k'.repeat(1025)]: 1 } },
      'this property name is 1025 bytes long; IoT Hub allows at most 1024 bytes (1 KB) in a twin property name',
    ],
    [
      'a name over 1 KB in UTF-8 though 513 characters',
      { desiredProperties: { ['é'.repeat(513)]: 1 } },
      'this property name is 1026 bytes long',
    ],
    [
      'a tag value over 4 KB',
      { tags: { note: 'x'.repeat(4097) } },
      'profiles[0].initialTwin.tags.note: this text is 4097 bytes long; IoT Hub allows at most 4096 bytes (4 KB) in one twin value',
    ],
    [
      'a desired value over 4 KB in UTF-8',
      { desiredProperties: { motd: { text: 'é'.repeat(2049) } } },
      'profiles[0].initialTwin.desiredProperties.motd.text: this text is 4098 bytes long',
    ],
    [
      'a value over 4 KB in a list',
      { tags: { notes: ['ok', 'x'.repeat(4097)] } },
      'profiles[0].initialTwin.tags.notes[1]: this text is 4097 bytes long',
    ],
    [
      'a bad name in an object in a list',
      { tags: { parts: [{ 'p.n': 1 }] } },
      'profiles[0].initialTwin.tags.parts[0]["p.n"]: this property name contains a dot (.)',
    ],
    [
      'tags nested 11 levels',
      { tags: nested(11) },
      'profiles[0].initialTwin.tags.top.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10: this object is nested 11 levels deep in the tags; IoT Hub allows at most 10 levels of objects',
    ],
    [
      'desired properties nested 11 levels',
      { desiredProperties: nested(11) },
      'this object is nested 11 levels deep in the desired properties',
    ],
    [
      'an object in a list at the 11th level',
      { desiredProperties: nested(9, { list: [{ a: 1 }] }) },
      'profiles[0].initialTwin.desiredProperties.top.l1.l2.l3.l4.l5.l6.l7.l8.l9.list[0]: this object is nested 11 levels deep',
    ],
    [
      'tags over 8 KB',
      { tags: ofSize(8193) },
      'profiles[0].initialTwin.tags: the tags take 8193 bytes as JSON; IoT Hub allows at most 8192 bytes (8 KB)',
    ],
    [
      'desired properties over 32 KB',
      { desiredProperties: ofSize(32_769) },
      'profiles[0].initialTwin.desiredProperties: the desired properties take 32769 bytes as JSON; IoT Hub allows at most 32768 bytes (32 KB)',
    ],
  ])('refuses %s, naming the field', (_name, twin, expected) => {
    const error = errorFor(twin);
    expect(error.code).toBe('PROFILE_INVALID');
    expect(error.message).toContain(expected);
  });

  it('accepts a twin at every limit', () => {
    const atLimits = [
      { tags: { ['k'.repeat(1024)]: 1, ['é'.repeat(512)]: 2 } },
      { desiredProperties: { note: 'x'.repeat(4096), motd: 'é'.repeat(2048) } },
      // The IoT Hub docs' example: tags → one → … → ten → property is the deepest allowed.
      // A list adds no level: the object in it is the tenth.
      { tags: nested(10), desiredProperties: nested(8, { list: [1, { 'x-y': 2 }] }) },
      { tags: ofSize(8192), desiredProperties: ofSize(32_768) },
      { tags: { 'fw-version': '1.4.2', Site_North: { línea: 'A', ok: true, n: null } } },
    ];
    for (const twin of atLimits) {
      const [parsed] = parse(twin);
      expect(parsed!.initialTwin).toEqual(twin);
    }
  });

  it('reports every broken rule in one pass', () => {
    const error = errorFor({
      tags: { 'a.b': 1, ok: 'x'.repeat(5000) },
      desiredProperties: { 'c d': 1 },
    });
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'profiles[0].initialTwin.tags["a.b"]',
      'profiles[0].initialTwin.tags.ok',
      'profiles[0].initialTwin.desiredProperties["c d"]',
    ]);
  });
});
