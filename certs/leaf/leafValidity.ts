import { CertError } from '../certErrors.js';
import { sequence } from '../der/derWriter.js';
import { encodeTime } from '../der/derTime.js';

/** Tolerated clock difference between the station and the devices and services checking a leaf. */
export const CLOCK_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

/** A leaf's validity period, whole seconds. */
export interface LeafValidity {
  notBefore: Date;
  notAfter: Date;
}

/**
 * notBefore = now − 60 s, truncated to the second, but never before the issuing CA's notBefore;
 * notAfter = notBefore + validityDays, but never after the issuing CA's notAfter. Either way a
 * leaf's validity stays inside its CA's: verifiers that check time nesting refuse it otherwise.
 * Refuses when the issuing CA is expired or not yet valid at `nowMs`.
 */
export function leafValidity(
  nowMs: number,
  validityDays: number,
  ca: { notBefore: Date; notAfter: Date },
): LeafValidity {
  if (nowMs >= ca.notAfter.getTime()) {
    throw new CertError('CA_EXPIRED', `issuing CA expired ${ca.notAfter.toISOString()}`);
  }
  if (nowMs < ca.notBefore.getTime()) {
    throw new CertError('CA_NOT_YET_VALID', `issuing CA valid from ${ca.notBefore.toISOString()}`);
  }
  // The CA's notBefore is whole seconds in its certificate; ceil keeps a Date with ms inside too.
  const notBefore = Math.max(
    Math.floor((nowMs - CLOCK_SKEW_MS) / 1000) * 1000,
    Math.ceil(ca.notBefore.getTime() / 1000) * 1000,
  );
  const notAfter = Math.min(
    notBefore + validityDays * DAY_MS,
    Math.floor(ca.notAfter.getTime() / 1000) * 1000,
  );
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

/**
 * Encodes Validity ::= SEQUENCE { notBefore Time, notAfter Time }, remembering the last result:
 * a busy line issues many leaves within one second, and they all share the same bytes.
 */
export class ValidityEncoder {
  private lastBefore = NaN;
  private lastAfter = NaN;
  private lastDer: Buffer = Buffer.alloc(0);

  /** DER of the Validity for these two (whole-second) dates. */
  encode(v: LeafValidity): Buffer {
    const before = v.notBefore.getTime();
    const after = v.notAfter.getTime();
    if (before !== this.lastBefore || after !== this.lastAfter) {
      this.lastDer = sequence(encodeTime(v.notBefore), encodeTime(v.notAfter));
      this.lastBefore = before;
      this.lastAfter = after;
    }
    return this.lastDer;
  }
}

/**
 * The end of a leaf issued at `nowMs` when the CA cuts it short (leafValidity's clamp): the CA,
 * or a CA above it, ends before `validityDays` have run. Undefined when the leaf gets its full
 * days, and when the CA may not issue at `nowMs` at all (its expiry is refused on its own).
 * The clamp is right, but silent: the station says so with this (at import, start and status).
 */
export function leafEndCutByCa(
  nowMs: number,
  validityDays: number,
  ca: { notBefore: Date; notAfter: Date },
): Date | undefined {
  if (nowMs >= ca.notAfter.getTime() || nowMs < ca.notBefore.getTime()) return undefined;
  const { notBefore, notAfter } = leafValidity(nowMs, validityDays, ca);
  return notAfter.getTime() < notBefore.getTime() + validityDays * DAY_MS ? notAfter : undefined;
}
