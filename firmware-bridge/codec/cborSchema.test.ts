import { encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import {
  decodeWithSchema,
  encodeWithSchema,
  MessageFormatError,
  type Schema,
} from './cborSchema.js';
import { errorSchema, messageSchemas, type MessageName } from './messages.js';
import { asCborgMap } from './testCborgReference.js';
import { derLike, sampleInfo, sampleMessages } from './testMessages.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytesOf = (...b: number[]): Uint8Array => new Uint8Array(b);

function formatError(fn: () => unknown): MessageFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MessageFormatError);
    return err as MessageFormatError;
  }
  throw new Error('expected a MessageFormatError');
}

const uintSchema: Schema = { n: { key: 1, kind: 'uint' } };
const hostMaxFrame = messageSchemas.INFO.req;

describe('encodeWithSchema / decodeWithSchema', () => {
  const samples = sampleMessages();

  it('round-trips a realistic request and response of every message, byte for byte as cborg', () => {
    expect(Object.keys(samples).sort()).toEqual(Object.keys(messageSchemas).sort());
    for (const [name, { req, res }] of Object.entries(samples)) {
      const schemas = messageSchemas[name as MessageName];
      for (const [schema, value] of [
        [schemas.req, req],
        [schemas.res, res],
      ] as const) {
        const bytes = encodeWithSchema(schema, value);
        expect(hex(bytes), name).toBe(hex(encode(asCborgMap(schema, { ...value }))));
        expect(decodeWithSchema(schema, bytes), name).toEqual(value);
      }
    }
    const body = { code: 8, detail: 'leaf key differs' };
    expect(decodeWithSchema(errorSchema, encodeWithSchema(errorSchema, body))).toEqual(body);
  });

  it('writes integers and lengths in shortest form at every boundary', () => {
    for (const n of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      const bytes = encodeWithSchema(uintSchema, { n });
      expect(hex(bytes)).toBe(hex(encode(new Map([[1, n]]))));
      expect(decodeWithSchema(uintSchema, bytes)).toEqual({ n });
    }
    const strings: Schema = { s: { key: 1, kind: 'tstr' }, b: { key: 2, kind: 'bstr' } };
    for (const length of [0, 23, 24, 255, 256, 70_000]) {
      const value = {
        s: 'é'.repeat(length >> 1) + 'x'.repeat(length & 1),
        b: derLike(length + 4, 1),
      };
      const bytes = encodeWithSchema(strings, value);
      expect(Buffer.from(bytes).equals(encode(asCborgMap(strings, value)))).toBe(true);
      expect(decodeWithSchema(strings, bytes)).toEqual(value);
    }
  });

  it('sorts text keys shorter first, then by UTF-8 bytes, as cborg did', () => {
    const extra = { zz: '1', a: '2', é: '3', b: '4', '😀': '5', aaa: '6', Z: '7', ü: '8' };
    const bytes = encodeWithSchema(messageSchemas.SET_CONFIG.req, { extra });
    expect(hex(bytes)).toBe(hex(encode(new Map([[4, new Map(Object.entries(extra))]]))));
    expect(decodeWithSchema(messageSchemas.SET_CONFIG.req, bytes)).toEqual({ extra });
  });

  it('writes text as UTF-8, a lone surrogate as U+FFFD like TextEncoder', () => {
    const schema: Schema = { s: { key: 1, kind: 'tstr', max: 3 } };
    expect(hex(encodeWithSchema(schema, { s: '\ud800' }))).toBe('a10163efbfbd');
    expect(decodeWithSchema(schema, encodeWithSchema(schema, { s: '\ud800' }))).toEqual({
      s: '\ufffd',
    });
    expect(formatError(() => encodeWithSchema(schema, { s: '😀' })).message).toBe(
      's: length 4 above 3',
    );
    // Two keys that are distinct in JS but one key on the wire would be refused by the receiver.
    const twins = { extra: { '\ud800': 'a', '\udbff': 'b' } };
    expect(formatError(() => encodeWithSchema(messageSchemas.SET_CONFIG.req, twins)).message).toBe(
      'extra.\udbff: duplicate key',
    );
  });

  it('keeps a leading byte-order mark: it is part of the text', () => {
    const schema: Schema = { s: { key: 1, kind: 'tstr' } };
    for (const s of ['\ufeffx', '\ufeff' + 'y'.repeat(40)]) {
      expect(decodeWithSchema(schema, encodeWithSchema(schema, { s }))).toEqual({ s });
    }
  });

  it('validates before encoding, naming the field as before', () => {
    const enc = (name: MessageName, value: object, res = false) =>
      formatError(() => encodeWithSchema(messageSchemas[name][res ? 'res' : 'req'], value)).message;
    expect(enc('INFO', {})).toBe('hostMaxFrame: missing');
    expect(enc('INFO', { hostMaxFrame: 100 })).toBe('hostMaxFrame: value 100 below 256');
    expect(enc('INFO', { hostMaxFrame: 1.5 })).toBe('hostMaxFrame: expected an unsigned integer');
    expect(enc('INFO', { hostMaxFrame: '512' })).toBe('hostMaxFrame: expected an unsigned integer');
    expect(enc('GEN_KEY_CSR', { curve: 'P-256', commonName: 7 })).toBe(
      'commonName: expected a text string',
    );
    expect(enc('COMMIT', { commitId: 'x' })).toBe('commitId: expected a byte string');
    expect(enc('COMMIT', { commitId: new Uint8Array(15) })).toBe('commitId: length 15 below 16');
    expect(enc('PUT_CERT_CHAIN', { chain: [] })).toBe('chain: count 0 below 1');
    expect(enc('PUT_CERT_CHAIN', { chain: new Uint8Array(3) })).toBe('chain: expected an array');
    expect(enc('PUT_CERT_CHAIN', { chain: [new Uint8Array(1), 'x'] })).toBe(
      'chain[1]: expected a byte string',
    );
    expect(enc('PUT_CERT_CHAIN', { chain: [new Uint8Array(4097)] })).toBe(
      'chain[0]: length 4097 above 4096',
    );
    const info = sampleInfo;
    expect(enc('INFO', { ...info, features: { ...info.features, tpm: 1 } }, true)).toBe(
      'features.tpm: expected a boolean',
    );
    expect(enc('INFO', { ...info, features: { ...info.features, keygenCurves: [7] } }, true)).toBe(
      'features.keygenCurves[0]: expected a text string',
    );
    expect(enc('INFO', { ...info, features: 'none' }, true)).toBe('features: expected a map');
    expect(enc('SET_CONFIG', { extra: { site: 3 } })).toBe('extra: expected text keys and values');
    expect(enc('SET_CONFIG', { extra: { ['k'.repeat(65)]: 'v' } })).toBe(
      `extra.${'k'.repeat(65)}: entry too long`,
    );
    // Declaration order decides which of two problems is reported.
    expect(enc('SIGN_CHALLENGE', { nonce: new Uint8Array(1), bank: 9 })).toBe(
      'nonce: length 1 below 16',
    );
  });

  it('returns byte strings as plain Uint8Array views of the input, wherever it starts', () => {
    const csr = derLike(300, 42);
    const message = encodeWithSchema(messageSchemas.GEN_KEY_CSR.res, { csr });
    const big = Buffer.alloc(message.length + 11);
    big.set(message, 7);
    const input = big.subarray(7, 7 + message.length);
    const out = decodeWithSchema<{ csr: Uint8Array }>(messageSchemas.GEN_KEY_CSR.res, input);
    expect(out.csr.constructor).toBe(Uint8Array);
    expect(hex(out.csr)).toBe(hex(csr));
    expect(out.csr.buffer).toBe(big.buffer);
  });
});

describe('decodeWithSchema: fields', () => {
  it('names the field of a value of the wrong type, with the same texts as before', () => {
    const dec = (schema: Schema, ...b: number[]) =>
      formatError(() => decodeWithSchema(schema, bytesOf(...b))).message;
    expect(dec(hostMaxFrame, 0xa1, 0x01, 0x61, 0x78)).toBe(
      'hostMaxFrame: expected an unsigned integer',
    );
    expect(dec(hostMaxFrame, 0xa1, 0x01, 0x39, 0x01, 0x00)).toBe(
      'hostMaxFrame: expected an unsigned integer',
    );
    expect(
      dec(messageSchemas.COMMIT.req, 0xa1, 0x01, 0x70, ...new Array<number>(16).fill(0x61)),
    ).toBe('commitId: expected a byte string');
    expect(dec(messageSchemas.FACTORY_RESET.req, 0xa1, 0x01, 0x41, 0x00)).toBe(
      'confirm: expected a text string',
    );
    expect(dec(messageSchemas.PUT_CERT_CHAIN.req, 0xa1, 0x01, 0x41, 0x30)).toBe(
      'chain: expected an array',
    );
    expect(dec(messageSchemas.PUT_CERT_CHAIN.req, 0xa1, 0x01, 0x81, 0x61, 0x30)).toBe(
      'chain[0]: expected a byte string',
    );
    expect(dec(messageSchemas.SET_CONFIG.req, 0xa1, 0x04, 0x80)).toBe('extra: expected a map');
    expect(dec(messageSchemas.SET_CONFIG.req, 0xa1, 0x04, 0xa1, 0x01, 0x61, 0x76)).toBe(
      'extra: expected text keys and values',
    );
    const boolSchema: Schema = { b: { key: 1, kind: 'bool' } };
    expect(dec(boolSchema, 0xa1, 0x01, 0x01)).toBe('b: expected a boolean');
    expect(dec(boolSchema, 0xa1, 0x01, 0xf6)).toBe('b: expected a boolean');
    expect(decodeWithSchema(boolSchema, bytesOf(0xa1, 0x01, 0xf5))).toEqual({ b: true });
    expect(decodeWithSchema(boolSchema, bytesOf(0xa1, 0x01, 0xf4))).toEqual({ b: false });
    const optional: Schema = { s: { key: 1, kind: 'tstr', optional: true } };
    expect(dec(optional, 0xa1, 0x01, 0xf6)).toBe('s: expected a text string');
    expect(dec(messageSchemas.INFO.res, 0xa0)).toBe('protocolVersion: missing');
  });

  it('reports nested fields with their path', () => {
    const info = asCborgMap(messageSchemas.INFO.res, { ...sampleInfo });
    const withFeatures = (features: unknown) => encode(new Map([...info, [7, features]]));
    const dec = (bytes: Uint8Array) =>
      formatError(() => decodeWithSchema(messageSchemas.INFO.res, bytes)).message;
    expect(dec(withFeatures(5))).toBe('features: expected a map');
    expect(dec(withFeatures(new Map([[1, ['P-256']]])))).toBe('features.tpm: missing');
    expect(dec(withFeatures(new Map<number, unknown>([[1, 'P-256']])))).toBe(
      'features.keygenCurves: expected an array',
    );
    const nineCurves = new Map<number, unknown>([
      [1, new Array(9).fill('P-256')],
      [2, false],
      [3, false],
      [4, false],
    ]);
    expect(dec(withFeatures(nineCurves))).toBe('features.keygenCurves: count 9 above 8');
  });

  it('reports the first field in schema order, whatever order the keys arrive in', () => {
    // {3: "x", 1: h'00'}: kind has the wrong type, nonce is too short; nonce is declared first.
    const bytes = bytesOf(0xa3, 0x03, 0x61, 0x78, 0x02, 0x00, 0x01, 0x41, 0x00);
    expect(
      formatError(() => decodeWithSchema(messageSchemas.SIGN_CHALLENGE.req, bytes)).message,
    ).toBe('nonce: length 1 below 16');
    // {3: "x"}: nonce is missing and declared before kind.
    expect(
      formatError(() =>
        decodeWithSchema(messageSchemas.SIGN_CHALLENGE.req, bytesOf(0xa1, 0x03, 0x61, 0x78)),
      ).message,
    ).toBe('nonce: missing');
  });

  it('lets a structural problem outrank a field error, as when cborg decoded first', () => {
    // {1: "x", 1: ...}: a wrong type, then a duplicate key.
    const dup = bytesOf(0xa2, 0x01, 0x61, 0x78, 0x01, 0x19, 0x01, 0x00);
    expect(formatError(() => decodeWithSchema(hostMaxFrame, dup)).field).toBe('(message)');
    // {1: 10} followed by a stray byte: out of bounds, then trailing bytes.
    const trailing = bytesOf(0xa1, 0x01, 0x0a, 0x00);
    expect(formatError(() => decodeWithSchema(hostMaxFrame, trailing)).message).toMatch(
      /^\(message\): invalid CBOR: /,
    );
    // {1: ["P-256", h'ff']} inside features, then a float under an unknown key.
    const nested = bytesOf(0xa2, 0x01, 0x81, 0x41, 0xff, 0x18, 0x63, 0xf9, 0x3c, 0x00);
    const featuresOnly: Schema = { features: { key: 1, kind: 'tstr[]' } };
    expect(formatError(() => decodeWithSchema(featuresOnly, nested)).field).toBe('(message)');
  });

  it('checks bounds on byte length, as before', () => {
    const schema: Schema = { s: { key: 1, kind: 'tstr', max: 4 } };
    expect(decodeWithSchema(schema, encode(new Map([[1, 'éé']])))).toEqual({ s: 'éé' });
    expect(formatError(() => decodeWithSchema(schema, encode(new Map([[1, 'ééé']])))).message).toBe(
      's: length 6 above 4',
    );
  });
});

describe('decodeWithSchema: what it tolerates', () => {
  it('skips unknown keys of any type, with any well-formed value of the subset', () => {
    const withExtras = encode(
      new Map<unknown, unknown>([
        [1, 4096],
        [42, new Map<unknown, unknown>([['nested', [1, -2, 'three', new Uint8Array(2), null]]])],
        [-1, true],
        ['text key', false],
        [1000, 'x'.repeat(100)],
      ]),
    );
    expect(decodeWithSchema(hostMaxFrame, withExtras)).toEqual({ hostMaxFrame: 4096 });
  });

  it('accepts integers, lengths and keys in non-minimal form, as cborg did', () => {
    // {1: 4096} with the key as 0x18 0x01 and the value as a 4-byte then an 8-byte integer.
    expect(
      decodeWithSchema(hostMaxFrame, bytesOf(0xa1, 0x18, 0x01, 0x1a, 0x00, 0x00, 0x10, 0x00)),
    ).toEqual({ hostMaxFrame: 4096 });
    expect(
      decodeWithSchema(hostMaxFrame, bytesOf(0xb8, 0x01, 0x01, 0x1b, 0, 0, 0, 0, 0, 0, 0x10, 0)),
    ).toEqual({ hostMaxFrame: 4096 });
    const confirm = messageSchemas.FACTORY_RESET.req;
    expect(decodeWithSchema(confirm, bytesOf(0xa1, 0x01, 0x78, 0x01, 0x45))).toEqual({
      confirm: 'E',
    });
  });

  it('accepts integers up to Number.MAX_SAFE_INTEGER', () => {
    const max = bytesOf(0xa1, 0x01, 0x1b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    expect(decodeWithSchema(errorSchema, max)).toEqual({ code: Number.MAX_SAFE_INTEGER });
  });
});

describe('decodeWithSchema: structural rejections', () => {
  const cases: [string, number[]][] = [
    ['empty input', []],
    ['a map cut before its value', [0xa1, 0x01]],
    ['a map cut inside its last value', [0xa2, 0x05, 0x00, 0x06, 0x19]],
    ['an integer cut inside its argument', [0xa1, 0x01, 0x19, 0x01]],
    ['a byte string longer than the input', [0xa1, 0x01, 0x58, 0x64, 0x00]],
    ['a text string longer than the input', [0xa1, 0x01, 0x7a, 0xff, 0xff, 0xff, 0xff]],
    ['an array count beyond the bytes left', [0xa1, 0x05, 0x9a, 0xff, 0xff, 0xff, 0xff]],
    ['a map count beyond the bytes left', [0xbb, 0, 0, 0, 1, 0, 0, 0, 0]],
    ['an indefinite-length map', [0xbf, 0x01, 0x19, 0x01, 0x00, 0xff]],
    ['an indefinite-length byte string', [0xa1, 0x05, 0x5f, 0x41, 0x00, 0xff]],
    ['an indefinite-length array', [0xa1, 0x05, 0x9f, 0xff]],
    ['a lone break', [0xa1, 0x05, 0xff]],
    ['a tag on a known field', [0xa1, 0x01, 0xc2, 0x42, 0x10, 0x00]],
    ['a tag under an unknown key', [0xa2, 0x01, 0x19, 0x10, 0x00, 0x05, 0xc1, 0x00]],
    ['a half float on a uint field', [0xa1, 0x01, 0xf9, 0x5c, 0x00]],
    ['a float32 under an unknown key', [0xa2, 0x01, 0x19, 0x10, 0x00, 0x05, 0xfa, 0, 0, 0, 0]],
    ['a float64', [0xa1, 0x01, 0xfb, 0x40, 0xb0, 0, 0, 0, 0, 0, 0]],
    ['undefined', [0xa1, 0x01, 0xf7]],
    ['a simple value', [0xa1, 0x05, 0xe0]],
    ['a one-byte simple value', [0xa1, 0x05, 0xf8, 0x20]],
    ['reserved additional info 28', [0xa1, 0x01, 0x1c]],
    ['reserved additional info 29', [0xa1, 0x05, 0x3d]],
    ['reserved additional info 30', [0xa1, 0x05, 0x5e]],
    ['a reserved map head', [0xbc]],
    ['trailing bytes after the map', [0xa1, 0x01, 0x19, 0x10, 0x00, 0x00]],
    ['a second message after the first', [0xa1, 0x01, 0x19, 0x10, 0x00, 0xa0]],
    ['a duplicate known key', [0xa2, 0x01, 0x19, 0x10, 0x00, 0x01, 0x19, 0x10, 0x00]],
    ['a duplicate unknown key', [0xa3, 0x01, 0x19, 0x10, 0x00, 0x05, 0x00, 0x05, 0x01]],
    ['a duplicate text key', [0xa3, 0x01, 0x19, 0x10, 0x00, 0x61, 0x61, 0x00, 0x61, 0x61, 0x01]],
    [
      'a duplicate inside an unknown map',
      [0xa2, 0x01, 0x19, 0x10, 0x00, 0x05, 0xa2, 0x20, 0x00, 0x20, 0x00],
    ],
    ['invalid UTF-8 in a short text', [0xa1, 0x05, 0x62, 0x61, 0xff]],
    ['an overlong UTF-8 sequence', [0xa1, 0x05, 0x62, 0xc0, 0x80]],
    ['an encoded surrogate', [0xa1, 0x05, 0x63, 0xed, 0xa0, 0x80]],
    ['a cut UTF-8 sequence', [0xa1, 0x05, 0x61, 0xe2]],
    [
      'invalid UTF-8 in a long text',
      [0xa1, 0x05, 0x78, 40, ...new Array<number>(39).fill(0x61), 0xfe],
    ],
    ['an integer above MAX_SAFE_INTEGER', [0xa1, 0x01, 0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0]],
    ['an integer of 2^64 - 1', [0xa1, 0x01, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    [
      'a negative integer below MIN_SAFE_INTEGER',
      [0xa1, 0x05, 0x3b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ],
    ['a malformed top level that is not a map', [0x82, 0x01]],
    ['nesting nine deep', [0xa1, 0x05, ...new Array<number>(8).fill(0x81), 0x00]],
  ];

  it.each(cases)('refuses %s as (message): invalid CBOR', (_what, b) => {
    const err = formatError(() => decodeWithSchema(hostMaxFrame, new Uint8Array(b)));
    expect(err.field).toBe('(message)');
    expect(err.message).toMatch(/^\(message\): invalid CBOR: /);
  });

  it('accepts nesting eight deep, the bound', () => {
    const bytes = bytesOf(
      0xa2,
      0x01,
      0x19,
      0x10,
      0x00,
      0x05,
      ...new Array<number>(7).fill(0x81),
      0x00,
    );
    expect(decodeWithSchema(hostMaxFrame, bytes)).toEqual({ hostMaxFrame: 4096 });
  });

  it('refuses a well-formed top level that is not a map as (message): expected a map', () => {
    for (const value of [[1, 2], 'map', 7, null, new Uint8Array(3)]) {
      expect(formatError(() => decodeWithSchema(hostMaxFrame, encode(value))).message).toBe(
        '(message): expected a map',
      );
    }
  });

  it('never allocates from a claimed length: a 4 GiB byte string in 9 bytes fails fast', () => {
    const before = process.memoryUsage().arrayBuffers;
    const claim = bytesOf(0xa1, 0x01, 0x5b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00);
    expect(formatError(() => decodeWithSchema(messageSchemas.COMMIT.req, claim)).field).toBe(
      '(message)',
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});
