import { encode as cborgEncode } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeWithSchema,
  encodeWithSchema,
  MessageFormatError,
  type FieldSpec,
  type Schema,
} from './cborSchema.js';
import { encodeFrame } from './frame.js';
import { FrameDecoder } from './frameDecoder.js';
import { errorSchema, messageSchemas, type MessageName } from './messages.js';
import { sampleMessages } from './testMessages.js';
import { asCborgMap, legacyDecode } from './testCborgReference.js';
import { splitAt } from './testFrames.js';

/**
 * The codec against the cborg-based implementation it replaced: the same bytes out, the same
 * values and the same errors back, over generated messages and their mutations. Seeded, so a
 * failure replays.
 */

const SEED = 20_260_311;

const schemas: [string, Schema][] = [
  ...Object.entries(messageSchemas).flatMap(([name, s]): [string, Schema][] => [
    [`${name} req`, s.req],
    [`${name} res`, s.res],
  ]),
  ['error', errorSchema],
];

// ---- Generators ----

const encoder = new TextEncoder();
const byteLength = (s: string) => encoder.encode(s).length;

/** Text within byte bounds; mostly ASCII, as on the wire, sometimes any Unicode. */
function textArb(min = 0, max = 300): fc.Arbitrary<string> {
  const unit = fc.oneof(fc.constant('binary-ascii' as const), fc.constant('binary' as const));
  return unit
    .chain((u) => fc.string({ unit: u, minLength: min, maxLength: Math.min(max, 300) }))
    .filter((s) => byteLength(s) >= min && byteLength(s) <= max);
}

function fieldArb(spec: FieldSpec): fc.Arbitrary<unknown> {
  const kind = spec.kind;
  if (typeof kind === 'object') return valueArb(kind.nested);
  switch (kind) {
    case 'uint':
      return fc.oneof(
        fc.integer({ min: spec.min ?? 0, max: Math.min(spec.max ?? 70_000, 70_000) }),
        spec.max === undefined
          ? fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).filter((n) => n >= (spec.min ?? 0))
          : fc.constant(spec.max),
      );
    case 'bool':
      return fc.boolean();
    case 'tstr':
      return textArb(spec.min, spec.max);
    case 'bstr':
      return fc.uint8Array({ minLength: spec.min ?? 0, maxLength: Math.min(spec.max ?? 600, 600) });
    case 'tstr[]':
      return fc.array(textArb(0, spec.itemMax), { minLength: spec.min, maxLength: spec.max ?? 5 });
    case 'bstr[]':
      return fc.array(fc.uint8Array({ maxLength: Math.min(spec.itemMax ?? 600, 600) }), {
        minLength: spec.min,
        maxLength: spec.max ?? 5,
      });
    case 'map<tstr,tstr>':
      return fc.dictionary(
        textArb(0, 64).filter((k) => k !== '__proto__'),
        textArb(0, spec.itemMax ?? 255),
        {
          maxKeys: spec.max ?? 16,
          noNullPrototype: true,
        },
      );
  }
}

function valueArb(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(schema).map(([name, spec]) => [name, fieldArb(spec)]),
  );
  const requiredKeys = Object.entries(schema)
    .filter(([, spec]) => !spec.optional)
    .map(([name]) => name);
  return fc.record(fields, { requiredKeys });
}

const messageArb = fc
  .constantFrom(...schemas)
  .chain(([name, schema]) => valueArb(schema).map((value) => ({ name, schema, value })));

/** Well-formed CBOR that breaks the schema: junk of every type in place of any value. */
const junkArb: fc.Arbitrary<unknown> = fc.letrec<{ junk: unknown }>((tie) => ({
  junk: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -70_000, max: 70_000 }),
    fc.string({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('junk'), { maxLength: 3 }),
    fc
      .array(fc.tuple(fc.oneof(fc.nat(9), fc.string({ maxLength: 3 })), tie('junk')), {
        maxLength: 3,
      })
      .map((entries) => new Map(entries)),
  ),
})).junk;

function orJunk(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: junkArb, weight: 1 });
}

function looseFieldArb(spec: FieldSpec): fc.Arbitrary<unknown> {
  const kind = spec.kind;
  if (typeof kind === 'object') return orJunk(looseMapArb(kind.nested));
  switch (kind) {
    case 'tstr[]':
    case 'bstr[]': {
      const item = kind === 'tstr[]' ? textArb(0, 20) : fc.uint8Array({ maxLength: 20 });
      return orJunk(fc.array(orJunk(item), { maxLength: 10 }));
    }
    case 'map<tstr,tstr>': {
      const entry = fc.tuple(orJunk(textArb(0, 70)), orJunk(textArb(0, 260)));
      return orJunk(fc.array(entry, { maxLength: 18 }).map((entries) => new Map(entries)));
    }
    case 'uint':
      return orJunk(fc.oneof(fieldArb(spec), fc.nat(70_000)));
    default:
      return orJunk(fc.oneof(fieldArb(spec), fieldArb({ key: 0, kind })));
  }
}

/** A map with fields missing, mistyped or out of bounds, unknown keys, keys in any order. */
function looseMapArb(schema: Schema): fc.Arbitrary<Map<unknown, unknown>> {
  const known = fc.tuple(
    ...Object.values(schema).map((spec) =>
      fc.option(
        looseFieldArb(spec).map((v): [unknown, unknown] => [spec.key, v]),
        { freq: 6 },
      ),
    ),
  );
  const unknown = fc.array(fc.tuple(fc.integer({ min: 10, max: 40 }), junkArb), { maxLength: 2 });
  return fc
    .tuple(known, unknown)
    .map(([k, u]) => [...k.filter((e) => e !== null), ...u])
    .chain((entries) =>
      fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
    )
    .map((entries) => new Map(entries));
}

type Mutation = {
  kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate';
  at: number;
  value: number;
};

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'flip') out[at] = (out[at] ?? 0) ^ (1 << (m.value % 8));
    else if (m.kind === 'set') out[at] = m.value;
    else if (m.kind === 'insert') out.splice(at, 0, m.value);
    else if (m.kind === 'delete') out.splice(at, 1);
    else out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});

function outcome(fn: () => unknown): { value: unknown } | { error: MessageFormatError } {
  try {
    return { value: fn() };
  } catch (err) {
    if (err instanceof MessageFormatError) return { error: err };
    throw err;
  }
}

/** Subset rules the old decoder did not enforce: only these may turn its answer into a refusal. */
const NEWLY_REFUSED =
  /invalid CBOR: (floats are not allowed|integer (above|below)|invalid UTF-8|nesting deeper)/;

// ---- Tests ----

describe('cborSchema against cborg', () => {
  it('encodes every generated message to the bytes cborg wrote, and decodes them back', () => {
    fc.assert(
      fc.property(messageArb, ({ schema, value }) => {
        const ours = encodeWithSchema(schema, value);
        const theirs = cborgEncode(asCborgMap(schema, value));
        expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
        const decoded = decodeWithSchema(schema, theirs);
        expect(decoded).toEqual(legacyDecode(schema, theirs));
        expect(decoded).toEqual(value);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('refuses schema breaks with the same field and reason as before, keys in any order', () => {
    const view = (o: ReturnType<typeof outcome>) => ('value' in o ? o : { error: o.error.message });
    fc.assert(
      fc.property(
        fc
          .constantFrom(...schemas)
          .chain(([, schema]) => looseMapArb(schema).map((map) => ({ schema, map }))),
        ({ schema, map }) => {
          // Insertion order: cborg sorts keys unless told otherwise, and devices need not sort.
          const bytes = cborgEncode(map, { mapSorter: () => 0 });
          const ours = outcome(() => decodeWithSchema(schema, bytes));
          expect(view(ours)).toEqual(view(outcome(() => legacyDecode(schema, bytes))));
        },
      ),
      { seed: SEED, numRuns: 4000 },
    );
  });

  it('answers mutated messages as the old decoder did, except for newly refused subset breaks', () => {
    fc.assert(
      fc.property(
        messageArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        ({ schema, value }, mutations) => {
          const bytes = mutate(encodeWithSchema(schema, value), mutations);
          const ours = outcome(() => decodeWithSchema(schema, bytes));
          const old = outcome(() => legacyDecode(schema, bytes));
          if ('value' in ours) {
            expect(old).toEqual(ours);
          } else if (ours.error.field !== '(message)') {
            expect('error' in old && old.error.message).toBe(ours.error.message);
          } else if (!('error' in old && old.error.field === '(message)')) {
            expect(ours.error.message).toMatch(NEWLY_REFUSED);
          }
        },
      ),
      { seed: SEED, numRuns: 6000 },
    );
  });

  it('throws nothing but MessageFormatError on random bytes', () => {
    const mapHead = fc.integer({ min: 0xa0, max: 0xbb });
    fc.assert(
      fc.property(
        fc.constantFrom(...schemas),
        mapHead,
        fc.uint8Array({ maxLength: 200 }),
        ([, schema], head, tail) => {
          for (const bytes of [tail, Uint8Array.of(head, ...tail)]) {
            const ours = outcome(() => decodeWithSchema(schema, bytes));
            if ('value' in ours) expect(outcome(() => legacyDecode(schema, bytes))).toEqual(ours);
          }
        },
      ),
      { seed: SEED, numRuns: 5000 },
    );
  });
});

describe('cborSchema at message boundaries', () => {
  const samples = Object.entries(sampleMessages()).flatMap(([name, { req, res }]) => {
    const s = messageSchemas[name as MessageName];
    return [
      { schema: s.req, value: req },
      { schema: s.res, value: res },
    ];
  });

  it('refuses every message cut short, at every offset, as (message)', () => {
    for (const { schema, value } of samples) {
      const bytes = encodeWithSchema(schema, value);
      for (let n = 0; n < bytes.length; n++) {
        const err = outcome(() => decodeWithSchema(schema, bytes.subarray(0, n)));
        expect('error' in err && err.error.field).toBe('(message)');
      }
    }
  });

  it('decodes messages that arrive through the frame decoder in arbitrary chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        const decoder = new FrameDecoder(4096);
        const wire = samples.map(({ schema, value }, i) =>
          encodeFrame({
            type: 1,
            requestId: i + 1,
            fromDevice: false,
            error: false,
            data: encodeWithSchema(schema, value),
          }),
        );
        const frames = splitAt(Buffer.concat(wire), cuts).flatMap((c) => decoder.push(c));
        expect(frames.length).toBe(samples.length);
        frames.forEach((frame, i) => {
          expect(decodeWithSchema(samples[i]!.schema, frame.data)).toEqual(samples[i]!.value);
        });
      }),
      { seed: SEED, numRuns: 50 },
    );
  });
});
