import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DerCursor, DerProblem, isProblem, readTlv, readWhole, type Tlv } from './derReader.js';
import { TAG } from './derTags.js';
import { decodeTime, encodeTime } from './derTime.js';
import {
  booleanValue,
  integerBytes,
  octetAlignedBits,
  positiveIntegerBits,
  stringValue,
} from './derValues.js';
import {
  bitString,
  encodeLength,
  integerFromBytes,
  oid,
  printableString,
  sequence,
  smallInteger,
  tlv,
  utf8String,
} from './derWriter.js';
import { decodeOid, encodeOid } from './oid.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s/g, ''), 'hex');
const reason = (r: unknown): string => (r instanceof DerProblem ? r.reason : 'accepted');
const whole = (hex: string, tag: number): Tlv => {
  const t = readWhole(bytes(hex), tag);
  if (isProblem(t)) throw new Error(t.toString());
  return t;
};

describe('DER reader', () => {
  it('reads short and long definite lengths as offsets into the buffer', () => {
    expect(readTlv(bytes('0403 aabbcc'), 0, 5)).toEqual({
      tag: 4,
      start: 0,
      valueStart: 2,
      end: 5,
    });
    const long = Buffer.concat([bytes('0481 80'), Buffer.alloc(128)]);
    expect(readTlv(long, 0, long.length)).toEqual({ tag: 4, start: 0, valueStart: 3, end: 131 });
  });

  it('refuses indefinite, overlong and oversized lengths, multi-byte tags and trailing bytes', () => {
    expect(reason(readTlv(bytes('3080 0000'), 0, 4))).toMatch(/indefinite/);
    expect(reason(readTlv(bytes('0481 05 0102030405'), 0, 8))).toMatch(/minimally/);
    expect(reason(readTlv(bytes('0482 0005 0102030405'), 0, 9))).toMatch(/minimally/);
    expect(reason(readTlv(bytes('0484 00000001 00'), 0, 7))).toMatch(/too large/);
    expect(reason(readTlv(bytes('1f2a 00'), 0, 3))).toMatch(/multi-byte tag/);
    expect(reason(readWhole(bytes('0500 00'), TAG.NULL))).toMatch(/trailing/);
    expect(reason(readWhole(bytes('0500'), TAG.INTEGER))).toMatch(/expected tag 0x02/);
  });

  it('never reads past the end it is given', () => {
    expect(reason(readTlv(bytes('0405 aabbcc'), 0, 5))).toMatch(/past the end/);
    expect(reason(readTlv(bytes('0402 aabb'), 0, 3))).toMatch(/past the end/);
    expect(reason(readTlv(bytes('04'), 0, 1))).toMatch(/truncated/);
    expect(reason(readTlv(bytes('0482 01'), 0, 3))).toMatch(/truncated/);
  });

  it('returns problems, never throws, on any input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (buf) => {
        const walk = (start: number, end: number, depth: number): void => {
          const cursor = new DerCursor(buf, start, end);
          while (!cursor.done) {
            const t = cursor.nextAny();
            if (isProblem(t)) return;
            expect(t.end).toBeLessThanOrEqual(end);
            if (depth < 8 && t.tag & 0x20) walk(t.valueStart, t.end, depth + 1);
          }
        };
        walk(0, buf.length, 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('checks children: missing, extra, wrong tag', () => {
    const buf = bytes('3006 020101 020102');
    const seq = whole('3006 020101 020102', TAG.SEQUENCE);
    const c = DerCursor.inside(buf, seq);
    if (isProblem(c)) throw new Error(c.reason);
    expect(isProblem(c.next(TAG.INTEGER))).toBe(false);
    expect(c.finish()?.reason).toMatch(/extra/);
    expect(reason(c.next(TAG.BOOLEAN))).toMatch(/expected tag 0x01/);
    c.next(TAG.INTEGER);
    expect(reason(c.next(TAG.INTEGER))).toMatch(/missing/);
    expect(reason(DerCursor.inside(buf, { tag: 2, start: 2, valueStart: 4, end: 5 }))).toMatch(
      /constructed/,
    );
  });
});

describe('DER values', () => {
  it('accepts minimal INTEGERs only', () => {
    expect(reason(integerBytes(bytes('020200 7f'), whole('02 02 007f', TAG.INTEGER)))).toMatch(
      /minimally/,
    );
    expect(reason(integerBytes(bytes('0202ff80'), whole('0202ff80', TAG.INTEGER)))).toMatch(
      /minimally/,
    );
    expect(reason(integerBytes(bytes('0200'), whole('0200', TAG.INTEGER)))).toMatch(/empty/);
    expect(positiveIntegerBits(bytes('020300 8000'), whole('0203008000', TAG.INTEGER))).toBe(16);
    expect(reason(positiveIntegerBits(bytes('0201 80'), whole('020180', TAG.INTEGER)))).toMatch(
      /negative/,
    );
  });

  it('accepts BOOLEAN 00/FF only and whole-octet BIT STRINGs', () => {
    expect(booleanValue(bytes('0101ff'), whole('0101ff', TAG.BOOLEAN))).toBe(true);
    expect(reason(booleanValue(bytes('010101'), whole('010101', TAG.BOOLEAN)))).toMatch(/BOOLEAN/);
    expect(reason(octetAlignedBits(bytes('030207 80'), whole('03020780', TAG.BIT_STRING)))).toMatch(
      /whole number/,
    );
    expect(
      Buffer.from(
        octetAlignedBits(bytes('030200 aa'), whole('030200aa', TAG.BIT_STRING)) as Uint8Array,
      ),
    ).toEqual(bytes('aa'));
  });

  it('decodes UTF8String strictly and PrintableString by its character set', () => {
    const u = utf8String('grüße');
    expect(stringValue(u, whole(u.toString('hex'), TAG.UTF8_STRING))).toBe('grüße');
    expect(reason(stringValue(bytes('0c01ff'), whole('0c01ff', TAG.UTF8_STRING)))).toMatch(/UTF-8/);
    expect(reason(stringValue(bytes('13015f'), whole('13015f', TAG.PRINTABLE_STRING)))).toMatch(
      /PrintableString/,
    );
    expect(() => printableString('a_b')).toThrow();
  });
});

describe('DER writer', () => {
  it('encodes lengths in the shortest form', () => {
    expect(bytes('00')).toEqual(Buffer.from(encodeLength(0)));
    expect(bytes('7f')).toEqual(Buffer.from(encodeLength(127)));
    expect(bytes('8180')).toEqual(Buffer.from(encodeLength(128)));
    expect(bytes('820100')).toEqual(Buffer.from(encodeLength(256)));
    expect(bytes('83010000')).toEqual(Buffer.from(encodeLength(65536)));
  });

  it('writes positive INTEGERs from magnitude bytes', () => {
    expect(integerFromBytes(bytes('0000ff'))).toEqual(bytes('020200ff'));
    expect(integerFromBytes(bytes('7f'))).toEqual(bytes('02017f'));
    expect(integerFromBytes(bytes('0000'))).toEqual(bytes('020100'));
    expect(smallInteger(2)).toEqual(bytes('020102'));
    expect(smallInteger(256)).toEqual(bytes('02020100'));
  });

  it('writes BIT STRINGs with their padding count and refuses set padding bits', () => {
    expect(bitString(bytes('80'), 7)).toEqual(bytes('03020780'));
    expect(() => bitString(bytes('81'), 7)).toThrow(/padding/);
  });

  it('round-trips nested elements through the reader (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (parts) => {
        const der = sequence(...parts.map((p) => tlv(TAG.OCTET_STRING, p)));
        const seq = readWhole(der, TAG.SEQUENCE);
        if (isProblem(seq)) throw new Error(seq.toString());
        const c = new DerCursor(der, seq.valueStart, seq.end);
        for (const p of parts) {
          const t = c.next(TAG.OCTET_STRING);
          if (isProblem(t)) throw new Error(t.toString());
          expect(Buffer.from(der.subarray(t.valueStart, t.end))).toEqual(Buffer.from(p));
        }
        expect(c.finish()).toBeUndefined();
      }),
    );
  });
});

describe('OIDs', () => {
  it('encodes and decodes known OIDs', () => {
    expect(oid('1.2.840.10045.3.1.7')).toEqual(bytes('06082a8648ce3d030107'));
    expect(oid('2.5.29.19')).toEqual(bytes('0603551d13'));
    expect(decodeOid(bytes('2b81040022'))).toBe('1.3.132.0.34');
    expect(decodeOid(bytes('8837'))).toBe('2.999');
  });

  it('refuses non-minimal and truncated encodings and bad dotted forms', () => {
    expect(decodeOid(bytes('2a8086'))).toBeUndefined();
    expect(decodeOid(bytes('2a86'))).toBeUndefined();
    expect(decodeOid(bytes(''))).toBeUndefined();
    expect(() => encodeOid('3.1')).toThrow();
    expect(() => encodeOid('1.40')).toThrow();
    expect(() => encodeOid('1.2.03')).toThrow();
  });

  it('round-trips random OIDs (property)', () => {
    const arcs = fc.tuple(
      fc.constantFrom(0, 1, 2),
      fc.nat({ max: 39 }),
      fc.array(fc.nat({ max: 2 ** 40 }), { maxLength: 8 }),
    );
    fc.assert(
      fc.property(arcs, ([a, b, rest]) => {
        const dotted = [a, b, ...rest].join('.');
        expect(decodeOid(encodeOid(dotted))).toBe(dotted);
      }),
    );
  });
});

describe('RFC 5280 times', () => {
  const read = (d: Buffer) => decodeTime(d, whole(d.toString('hex'), d[0]!));

  it('writes UTCTime through 2049 and GeneralizedTime from 2050, dropping milliseconds', () => {
    expect(encodeTime(new Date('2049-12-31T23:59:59.999Z')).toString('latin1')).toBe(
      '\x17\x0d491231235959Z',
    );
    expect(encodeTime(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe(
      '\x18\x0f20500101000000Z',
    );
    expect(encodeTime(new Date('1950-01-01T00:00:00Z')).toString('latin1')).toBe(
      '\x17\x0d500101000000Z',
    );
  });

  it('reads back what it writes, and refuses other forms', () => {
    for (const iso of [
      '1999-02-28T01:02:03Z',
      '2049-12-31T23:59:59Z',
      '2050-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
    ]) {
      expect((read(encodeTime(new Date(iso))) as Date).toISOString()).toBe(
        new Date(iso).toISOString(),
      );
    }
    expect(reason(read(tlv(TAG.UTC_TIME, Buffer.from('4912312359Z'))))).toMatch(/RFC 5280/);
    expect(reason(read(tlv(TAG.UTC_TIME, Buffer.from('491231235959+0100'))))).toMatch(/RFC 5280/);
    expect(reason(read(tlv(TAG.GENERALIZED_TIME, Buffer.from('20491231235959Z'))))).toMatch(
      /before 2050/,
    );
    expect(reason(read(tlv(TAG.GENERALIZED_TIME, Buffer.from('20500101000000.5Z'))))).toMatch(
      /RFC 5280/,
    );
    expect(reason(read(tlv(TAG.UTC_TIME, Buffer.from('490231235959Z'))))).toMatch(/impossible/);
  });
});
