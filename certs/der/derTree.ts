/**
 * A DER element described as a tree and encoded in one pass into one buffer. The per-leaf
 * TBSCertificate nests eight levels deep; encoding it with `tlv()` at every level would copy
 * its bytes once per level and allocate a buffer for each. Here each node knows its content
 * length when it is made (its children are complete), so `encodeTree` allocates once and
 * writes every header and leaf value exactly once.
 */

/** A constructed or primitive element whose content is the concatenation of `children`. */
export interface DerNode {
  readonly tag: number;
  readonly children: readonly DerPart[];
  /** Content length in bytes (headers of the children included, own header excluded). */
  readonly length: number;
}

/** A finished element (or any bytes to copy as they are), or a node still to encode. */
export type DerPart = Uint8Array | DerNode;

function headerSize(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : 5;
}

function sizeOf(part: DerPart): number {
  return part instanceof Uint8Array ? part.length : headerSize(part.length) + part.length;
}

/** A node with `tag` over `children` (encoded bytes or other nodes), in order. */
export function node(tag: number, ...children: DerPart[]): DerNode {
  let length = 0;
  for (const c of children) length += sizeOf(c);
  if (length >= 0x1000000) throw new Error(`DER element of ${length} bytes is too large`);
  return { tag, children, length };
}

/** Encodes `root` and everything below it into a single new Buffer. */
export function encodeTree(root: DerNode): Buffer {
  const out = Buffer.allocUnsafe(sizeOf(root));
  const end = write(out, 0, root);
  if (end !== out.length) throw new Error('DER tree size mismatch');
  return out;
}

function write(out: Buffer, at: number, part: DerPart): number {
  if (part instanceof Uint8Array) {
    out.set(part, at);
    return at + part.length;
  }
  const n = part.length;
  out[at++] = part.tag;
  if (n < 0x80) {
    out[at++] = n;
  } else if (n < 0x100) {
    out[at++] = 0x81;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0x82;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = 0x83;
    out[at++] = n >> 16;
    out[at++] = (n >> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  for (const child of part.children) at = write(out, at, child);
  return at;
}
