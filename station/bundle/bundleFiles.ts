import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { BundleError } from './bundleErrors.js';
import {
  bundlePayloadSchema,
  refuseNewerBundle,
  checkPayload,
  receiptPayloadSchema,
  type BundlePayload,
  type ReceiptPayload,
} from './bundlePayload.js';
import {
  MAX_SEALED_FILE_BYTES,
  SEALED_BUNDLE_FORMAT,
  openPayload,
  readSealedHeader,
  type ReadSealed,
  type SealedKind,
} from './bundleSeal.js';

/**
 * Reading bundle and receipt files from removable media, and writing receipts. A file is read
 * and its clear header checked before anyone is asked for a passphrase, so the wrong file, a
 * truncated copy or a receipt given for a bundle is named at once.
 */

/** The file read and its header checked, or BundleError (READ_FAILED, TOO_LARGE, CORRUPT, WRONG_KIND). */
export function readSealedFile(file: string, kind: SealedKind): ReadSealed {
  let text: string;
  try {
    if (statSync(file).size > MAX_SEALED_FILE_BYTES) {
      throw new BundleError('BUNDLE_TOO_LARGE', file);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof BundleError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError('BUNDLE_READ_FAILED', `${file}: ${code ?? String(err)}`, { cause: err });
  }
  const sealed = readSealedHeader(text);
  if (sealed.kind !== kind) {
    throw new BundleError('BUNDLE_WRONG_KIND', `${file} is a ${sealed.kind}, not a ${kind}`);
  }
  return sealed;
}

/** Opens a bundle file read by readSealedFile; its payload must name the header's bundle. */
export async function openBundle(sealed: ReadSealed, wrapper: KeyWrapper): Promise<BundlePayload> {
  const { header, payload } = await openPayload(sealed, 'bundle', wrapper);
  refuseNewerBundle(payload);
  const bundle = checkPayload(bundlePayloadSchema, payload, 'bundle');
  if (bundle.bundleId !== header.bundleId) {
    throw new BundleError('BUNDLE_CORRUPT', 'the bundle ID inside differs from the header');
  }
  return bundle;
}

/** Opens a receipt file read by readSealedFile; its payload must name the header's bundle. */
export async function openReceipt(
  sealed: ReadSealed,
  wrapper: KeyWrapper,
): Promise<ReceiptPayload> {
  const { header, payload } = await openPayload(sealed, 'receipt', wrapper);
  const receipt = checkPayload(receiptPayloadSchema, payload, 'receipt');
  if (receipt.bundleId !== header.bundleId) {
    throw new BundleError('BUNDLE_CORRUPT', 'the bundle ID inside differs from the header');
  }
  return receipt;
}

/**
 * Writes all of `text` through `fd` (open on `path`), flushes it, and reads it back. A full
 * stick is the common case: write() then takes only part of the bytes without an error, and a
 * bundle or receipt cut short would only be found on the other side of the air gap.
 */
export function writeDurably(
  fd: number,
  path: string,
  text: string,
  code: 'BUNDLE_WRITE_FAILED' | 'BUNDLE_RECEIPT_WRITE_FAILED',
): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length;) {
    done += writeSync(fd, bytes, done, bytes.length - done);
  }
  fsyncSync(fd);
  const back = readFileSync(path);
  if (!back.equals(bytes)) {
    throw new BundleError(code, `${path}: ${back.length} of ${bytes.length} bytes read back`);
  }
}

/**
 * Writes the receipt of `bundleId`, replacing only an earlier receipt of the same bundle (a later
 * sync's receipt holds everything the earlier one did), never another file: a bundle given as
 * the receipt's name is BUNDLE_FILE_EXISTS. Through a temporary name of its own in the same
 * folder, so a stick pulled or filled mid-write leaves the earlier receipt whole, and two syncs
 * of one bundle never write into one file.
 */
export function writeReceiptFile(file: string, text: string, bundleId: string): void {
  if (existsSync(file) && !isReceiptOf(file, bundleId)) {
    throw new BundleError('BUNDLE_FILE_EXISTS', file);
  }
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  let fd: number | undefined;
  try {
    fd = openSync(partial, 'wx', 0o600);
    writeDurably(fd, partial, text, 'BUNDLE_RECEIPT_WRITE_FAILED');
    closeSync(fd);
    fd = undefined;
    renameSync(partial, file);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(partial, { force: true });
    if (err instanceof BundleError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError('BUNDLE_RECEIPT_WRITE_FAILED', `${file}: ${code ?? String(err)}`, {
      cause: err,
    });
  }
}

/**
 * Whether `file` is a receipt of `bundleId`, whole or cut short: its first bytes are the header
 * sealPayload writes first. A receipt damaged by an earlier full stick may be replaced.
 */
export function isReceiptOf(file: string, bundleId: string): boolean {
  const head = Buffer.alloc(256);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const n = readSync(fd, head, 0, head.length, 0);
    const prefix = `{"format":"${SEALED_BUNDLE_FORMAT}","version":1,"kind":"receipt","bundleId":"${bundleId}"`;
    return head.subarray(0, n).toString('utf8').startsWith(prefix);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
