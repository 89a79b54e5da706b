/**
 * The DER tag bytes the station reads and writes. Only low tag numbers (< 31) occur in X.509
 * and PKCS#10, so a tag is always one byte here; the reader refuses the multi-byte form.
 */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Bit 6 of a tag byte: the value is a series of TLVs rather than raw content. */
export const CONSTRUCTED = 0x20;

/** `[n]` EXPLICIT, or IMPLICIT over a constructed type: context-specific and constructed. */
export function contextConstructed(n: number): number {
  return 0xa0 | n;
}

/** `[n]` IMPLICIT over a primitive type (for example a dNSName in GeneralNames). */
export function contextPrimitive(n: number): number {
  return 0x80 | n;
}
