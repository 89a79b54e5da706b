/**
 * OBJECT IDENTIFIER content octets to and from dotted form (X.690 8.19): the first two arcs
 * share one subidentifier (40·a + b), each subidentifier is base-128 with the high bit as
 * "more follows". Decoding refuses non-minimal subidentifiers (a leading 0x80), a last octet
 * that says more follows, and arcs beyond 2^53, so each OID has exactly one accepted encoding.
 */

/** Content octets (no tag or length) of `dotted`, e.g. `1.2.840.10045.2.1`. */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => {
    if (!/^(0|[1-9][0-9]*)$/.test(a)) throw new Error(`bad OID arc "${a}" in ${dotted}`);
    const n = Number(a);
    if (!Number.isSafeInteger(n)) throw new Error(`OID arc too large in ${dotted}`);
    return n;
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2 || (first < 2 && second > 39)) {
    throw new Error(`bad OID ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) pushBase128(out, arc);
  return Uint8Array.from(out);
}

function pushBase128(out: number[], n: number): void {
  const groups: number[] = [n % 128];
  n = Math.floor(n / 128);
  while (n > 0) {
    groups.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  for (let i = groups.length - 1; i >= 0; i--) out.push(groups[i]!);
}

/** Dotted form of OID content octets, or undefined when they are not a minimal encoding. */
export function decodeOid(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || (bytes[bytes.length - 1]! & 0x80) !== 0) return undefined;
  const arcs: number[] = [];
  let n = 0;
  let startOfArc = true;
  for (const byte of bytes) {
    if (startOfArc && byte === 0x80) return undefined;
    n = n * 128 + (byte & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER) return undefined;
    startOfArc = (byte & 0x80) === 0;
    if (startOfArc) {
      if (arcs.length === 0) {
        const first = n < 40 ? 0 : n < 80 ? 1 : 2;
        arcs.push(first, n - first * 40);
      } else {
        arcs.push(n);
      }
      n = 0;
    }
  }
  return arcs.join('.');
}
