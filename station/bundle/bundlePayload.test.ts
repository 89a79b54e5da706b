import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';

import { BundleError } from './bundleErrors.js';
import {
  BUNDLE_PAYLOAD_FORMAT,
  MAX_BUNDLE_ENROLLMENTS,
  RECEIPT_PAYLOAD_FORMAT,
  bundlePayloadSchema,
  checkPayload,
  receiptPayloadSchema,
  type BundleEnrollment,
  type BundlePayload,
  type ReceiptPayload,
  type ReceiptResult,
} from './bundlePayload.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function enrollment(id: number, overrides: Partial<BundleEnrollment> = {}): BundleEnrollment {
  const body = JSON.stringify({ registrationId: `dev-${id}`, attestation: { type: 'x509' } });
  return {
    id,
    registrationId: `dev-${id}`,
    attestation: 'x509-device-key',
    body,
    bodySha256: sha256(body),
    attempts: 0,
    needsReconcile: false,
    serialNumber: `SN-${id}`,
    model: 'Sensor Mk II',
    createdAt: '2025-03-04T05:06:07.000Z',
    ...overrides,
  };
}

function bundle(): BundlePayload {
  return {
    format: BUNDLE_PAYLOAD_FORMAT,
    version: 1,
    bundleId: randomUUID(),
    createdAt: '2025-03-04T06:00:00.000Z',
    source: { host: 'line-3', dataDir: '/var/lib/line-station' },
    enrollments: [
      enrollment(7),
      enrollment(8, {
        attestation: 'symmetric-key-individual',
        symmetricKey: randomBytes(32).toString('base64'),
        attempts: 2,
        needsReconcile: true,
      }),
    ],
    history: [{ ...enrollment(3), supersededBy: 7 }],
  };
}

const resultBase = { registrationId: 'dev-7', bodySha256: sha256('{}'), attempts: 1 };

/** One result of every outcome, with its optional fields both present and absent. */
const everyOutcome: ReceiptResult[] = [
  { ...resultBase, id: 1, outcome: 'synced', how: 'created', etag: '"1"', note: 'new' },
  { ...resultBase, id: 2, outcome: 'synced', how: 'found' },
  { ...resultBase, id: 3, outcome: 'synced', how: 'replaced' },
  { ...resultBase, id: 4, outcome: 'synced', how: 'group' },
  {
    ...resultBase,
    id: 5,
    outcome: 'failed',
    code: 'SYNC_DPS_REJECTED',
    detail: 'HTTP 400',
    dpsError: { errorCode: 400004, message: 'bad' },
  },
  { ...resultBase, id: 6, outcome: 'failed', code: 'SYNC_AUTH', detail: '' },
  { ...resultBase, id: 7, outcome: 'conflict', detail: 'other key', dpsRecord: { etag: 'x' } },
  { ...resultBase, id: 8, outcome: 'pending' },
  { ...resultBase, id: 9, outcome: 'pending', code: 'SYNC_UNREACHABLE', detail: 'timeout' },
];

function receipt(results: unknown[] = everyOutcome): ReceiptPayload {
  return {
    format: RECEIPT_PAYLOAD_FORMAT,
    version: 1,
    bundleId: randomUUID(),
    writtenAt: '2025-03-05T10:00:00.000Z',
    dpsHost: 'global.azure-devices-provisioning.net',
    results: results as ReceiptResult[],
  };
}

/** The BundleError that checkPayload throws for `value`; fails the test if it does not throw. */
function refusal(schema: z.ZodType, value: unknown, what: string): BundleError {
  try {
    checkPayload(schema, value, what);
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return err as BundleError;
  }
  throw new Error(`checkPayload accepted ${what}`);
}

const REMOVE = Symbol('remove');

/** A deep copy of `value` with the field at `path` (dotted) set to `to`, or removed. */
function withField(value: unknown, path: string, to: unknown): unknown {
  const copy = structuredClone(value);
  const names = path.split('.');
  const last = names.pop()!;
  let parent = copy as Record<string, unknown>;
  for (const name of names) parent = parent[name] as Record<string, unknown>;
  if (!(last in parent)) throw new Error(`no field ${path} to edit`);
  if (to === REMOVE) delete parent[last];
  else parent[last] = to;
  return copy;
}

/** The detail checkPayload writes: the colon ends the path, so "a" does not pass for "a.0.b". */
const namesField = (what: string, path: string): RegExp =>
  new RegExp(`^${what}: field ${path.replace(/[.()]/g, '\\$&')}: `);

describe('checkPayload with bundlePayloadSchema', () => {
  it('accepts a valid bundle and returns it unchanged', () => {
    const value = bundle();
    expect(checkPayload(bundlePayloadSchema, value, 'bundle')).toEqual(value);
  });

  it('accepts an empty history', () => {
    const value = { ...bundle(), history: [] };
    expect(checkPayload(bundlePayloadSchema, value, 'bundle')).toEqual(value);
  });

  it.each([
    ['a negative id', 'enrollments.0.id', -1],
    ['a zero id', 'enrollments.1.id', 0],
    ['a fractional id', 'enrollments.0.id', 1.5],
    ['an id as a string', 'enrollments.0.id', '7'],
    ['a bodySha256 that is not hex', 'enrollments.0.bodySha256', 'z'.repeat(64)],
    ['an upper-case bodySha256', 'enrollments.0.bodySha256', 'AB'.repeat(32)],
    ['a short bodySha256', 'enrollments.0.bodySha256', 'ab'.repeat(16)],
    ['an unknown attestation', 'enrollments.1.attestation', 'password'],
    ['a createdAt that is not a date', 'enrollments.0.createdAt', 'last Tuesday-ish'],
    ['negative attempts', 'enrollments.0.attempts', -1],
    ['needsReconcile as a string', 'enrollments.0.needsReconcile', 'false'],
    ['a missing registrationId', 'enrollments.1.registrationId', REMOVE],
    ['missing enrollments', 'enrollments', REMOVE],
    ['no enrollments', 'enrollments', []],
    ['missing history', 'history', REMOVE],
    ['a history entry without supersededBy', 'history.0.supersededBy', REMOVE],
    ['a history entry with a bad id', 'history.0.id', -2],
    ['another format', 'format', RECEIPT_PAYLOAD_FORMAT],
    ['version 2', 'version', 2],
    ['a bundleId that is no UUID', 'bundleId', 'b-1'],
    ['a source without host', 'source.host', REMOVE],
  ])('refuses %s as BUNDLE_CORRUPT naming %s', (_what, path, to) => {
    const err = refusal(bundlePayloadSchema, withField(bundle(), path, to), 'bundle');
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toMatch(namesField('bundle', path));
  });

  it('accepts retirements alone as version 2, and only as that', () => {
    const retiring = { ...bundle(), version: 2 as const, enrollments: [], history: [] };
    const alone = { ...retiring, retirements: [enrollment(3)] };
    expect(checkPayload(bundlePayloadSchema, alone, 'bundle')).toEqual(alone);
    const refused: [BundlePayload, string][] = [
      [{ ...alone, version: 1 }, 'enrollments'],
      [{ ...alone, history: [{ ...enrollment(2), supersededBy: 3 }] }, 'history'],
      [retiring, 'retirements'],
      [{ ...retiring, retirements: [] }, 'retirements'],
    ];
    for (const [value, path] of refused) {
      const err = refusal(bundlePayloadSchema, value, 'bundle');
      expect(err.code).toBe('BUNDLE_CORRUPT');
      expect(err.detail).toMatch(namesField('bundle', path));
    }
  });

  it('names (top) when the payload is not an object at all', () => {
    for (const value of [null, [], 'bundle', 42]) {
      const err = refusal(bundlePayloadSchema, value, 'bundle');
      expect(err.code).toBe('BUNDLE_CORRUPT');
      expect(err.detail).toMatch(namesField('bundle', '(top)'));
    }
  });

  it('never quotes a symmetric key in the detail', () => {
    const key = randomBytes(240).toString('base64'); // 320 characters: above the limit
    const value = withField(bundle(), 'enrollments.1.symmetricKey', key);
    const err = refusal(bundlePayloadSchema, value, 'bundle');
    expect(err.detail).toMatch(namesField('bundle', 'enrollments.1.symmetricKey'));
    expect(JSON.stringify(err.toJSON())).not.toContain(key.slice(0, 16));
  });

  it('refuses more than 20,000 enrollments (a day of production at most)', () => {
    expect(MAX_BUNDLE_ENROLLMENTS).toBe(20_000); // the export takes this many
    const one = enrollment(1);
    const at = { ...bundle(), enrollments: Array<BundleEnrollment>(20_000).fill(one) };
    expect(checkPayload(bundlePayloadSchema, at, 'bundle').enrollments).toHaveLength(20_000);
    const over = { ...at, enrollments: [...at.enrollments, one] };
    const err = refusal(bundlePayloadSchema, over, 'bundle');
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toMatch(namesField('bundle', 'enrollments'));
  });
});

describe('checkPayload with receiptPayloadSchema', () => {
  it('accepts a receipt with every outcome and returns it unchanged', () => {
    const value = receipt();
    expect(new Set(value.results.map((r) => r.outcome))).toEqual(
      new Set(['synced', 'failed', 'conflict', 'pending']),
    );
    expect(checkPayload(receiptPayloadSchema, value, 'receipt')).toEqual(value);
  });

  it.each(everyOutcome.map((result) => [`${result.outcome} (id ${result.id})`, result] as const))(
    'accepts a receipt holding only %s',
    (_what, result) => {
      const value = receipt([result]);
      expect(checkPayload(receiptPayloadSchema, value, 'receipt')).toEqual(value);
    },
  );

  it('accepts a receipt with no results', () => {
    const value = receipt([]);
    expect(checkPayload(receiptPayloadSchema, value, 'receipt')).toEqual(value);
  });

  const synced = everyOutcome[0]!;
  const failed = everyOutcome[4]!;
  const conflict = everyOutcome[6]!;
  it.each([
    ['synced with an unknown how', [synced, { ...synced, how: 'magic' }], 'results.1.how'],
    ['synced without how', [{ ...synced, how: undefined }], 'results.0.how'],
    ['failed without code', [{ ...failed, code: undefined }], 'results.0.code'],
    ['failed with a code outside SYNC_*', [{ ...failed, code: 'OOPS' }], 'results.0.code'],
    ['failed without detail', [{ ...failed, detail: undefined }], 'results.0.detail'],
    ['conflict without dpsRecord', [{ ...conflict, dpsRecord: undefined }], 'results.0.dpsRecord'],
    ['an unknown outcome', [{ ...synced, outcome: 'done' }], 'results.0.outcome'],
    ['a negative id', [{ ...synced, id: -3 }], 'results.0.id'],
    ['a bodySha256 that is not hex', [{ ...synced, bodySha256: 'x' }], 'results.0.bodySha256'],
  ])('refuses %s as BUNDLE_CORRUPT naming the field', (_what, results, path) => {
    const err = refusal(receiptPayloadSchema, receipt(results), 'receipt');
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toMatch(namesField('receipt', path));
  });

  it('refuses more than 40,000 results (twice the enrollments a bundle carries)', () => {
    const at = Array<ReceiptResult>(40_000).fill(everyOutcome[0]!);
    expect(checkPayload(receiptPayloadSchema, receipt(at), 'receipt').results).toHaveLength(40_000);
    const err = refusal(receiptPayloadSchema, receipt([...at, everyOutcome[0]!]), 'receipt');
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toMatch(namesField('receipt', 'results'));
  });

  it('refuses a bundle passed off as a receipt, naming format', () => {
    const err = refusal(receiptPayloadSchema, bundle(), 'receipt');
    expect(err.code).toBe('BUNDLE_CORRUPT');
    expect(err.detail).toMatch(namesField('receipt', 'format'));
  });
});

describe('the DPS objects a receipt carries (stored on the line as received)', () => {
  const failed = everyOutcome[4]!;
  const conflict = everyOutcome[6]!;
  const KiB = 1024;

  /** An object whose JSON text is exactly `bytes` long. */
  function jsonOfBytes(bytes: number): Record<string, unknown> {
    const value = { message: 'x'.repeat(bytes - JSON.stringify({ message: '' }).length) };
    expect(Buffer.byteLength(JSON.stringify(value))).toBe(bytes);
    return value;
  }

  /** `{ a: { a: … { a: 1 } } }`: `levels` objects, the outermost included. */
  function nested(levels: number): Record<string, unknown> {
    let value: Record<string, unknown> = { a: 1 };
    for (let level = 1; level < levels; level++) value = { a: value };
    return value;
  }

  const cases = [
    ['dpsError', (dpsError: Record<string, unknown>) => ({ ...failed, dpsError })],
    ['dpsRecord', (dpsRecord: Record<string, unknown>) => ({ ...conflict, dpsRecord })],
  ] as const;

  it.each(cases)('accepts a %s of 64 KiB of JSON and 16 levels', (_field, result) => {
    for (const value of [jsonOfBytes(64 * KiB), nested(16), { list: [[[[{ a: [] }]]]] }]) {
      const ok = receipt([result(value)]);
      expect(checkPayload(receiptPayloadSchema, ok, 'receipt')).toEqual(ok);
    }
  });

  it.each(cases)('refuses a %s above 64 KiB of JSON, naming it', (field, result) => {
    // Counted in UTF-8, as the line stores it: 22 Ki characters, but 66 KiB.
    const euros = { message: '€'.repeat(22 * KiB) };
    expect(JSON.stringify(euros).length).toBeLessThan(64 * KiB);
    const wide = Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`${'k'.repeat(66)}${i}`, i]),
    );
    for (const value of [jsonOfBytes(64 * KiB + 1), euros, wide]) {
      const err = refusal(receiptPayloadSchema, receipt([result(value)]), 'receipt');
      expect(err.code).toBe('BUNDLE_CORRUPT');
      expect(err.detail).toBe(`receipt: field results.0.${field}: more than 64 KiB of JSON`);
    }
  });

  it.each(cases)('refuses a %s nested deeper than 16 levels, naming it', (field, result) => {
    // 17 levels of objects, of arrays, and far too many to stringify without a stack overflow.
    const arrays = { list: [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]] };
    for (const value of [nested(17), arrays, nested(200_000)]) {
      const err = refusal(receiptPayloadSchema, receipt([result(value)]), 'receipt');
      expect(err.code).toBe('BUNDLE_CORRUPT');
      expect(err.detail).toBe(`receipt: field results.0.${field}: nests deeper than 16 levels`);
    }
  });
});
