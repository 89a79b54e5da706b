import { DerProblem, type Tlv } from './derReader.js';
import { TAG } from './derTags.js';
import { tlv } from './derWriter.js';

/**
 * Certificate times as RFC 5280 4.1.2.5 fixes them: UTCTime `YYMMDDHHMMSSZ` for the years
 * 1950–2049, GeneralizedTime `YYYYMMDDHHMMSSZ` otherwise; always UTC, always with seconds,
 * never fractions. Milliseconds are dropped (truncated), so callers work in whole seconds.
 */

/** The Time element for `date`. */
export function encodeTime(date: Date | number): Buffer {
  const d = typeof date === 'number' ? new Date(date) : date;
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999 || Number.isNaN(year))
    throw new Error(`year ${year} cannot be encoded`);
  const rest =
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    'Z';
  return year >= 1950 && year <= 2049
    ? tlv(TAG.UTC_TIME, Buffer.from(two(year % 100) + rest, 'latin1'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(String(year).padStart(4, '0') + rest, 'latin1'));
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** Reads a UTCTime or GeneralizedTime in the RFC 5280 form; refuses any other shape. */
export function decodeTime(buf: Uint8Array, t: Tlv): Date | DerProblem {
  const text = Buffer.from(
    buf.buffer,
    buf.byteOffset + t.valueStart,
    t.end - t.valueStart,
  ).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === TAG.UTC_TIME && (m = UTC_TIME.exec(text))) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (t.tag === TAG.GENERALIZED_TIME && (m = GENERALIZED_TIME.exec(text))) {
    year = Number(m[1]);
    // RFC 5280: dates through 2049 must be UTCTime, so GeneralizedTime below 2050 is not DER here.
    if (year >= 1950 && year <= 2049) return new DerProblem('GeneralizedTime before 2050', t.start);
  } else {
    return new DerProblem('time not in RFC 5280 form', t.start);
  }
  const [month, day, hour, minute, second] = m.slice(2, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  // Date.UTC rolls 31 February into March; a round trip catches impossible dates.
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return new DerProblem('impossible date', t.start);
  }
  return d;
}
