import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { BundleError } from './bundleErrors.js';
import {
  bundlePayloadSchema,
  checkPayload,
  receiptPayloadSchema,
  type BundlePayload,
  type ReceiptPayload,
} from './bundlePayload.js';
import {
  MAX_SEALED_FILE_BYTES,
  openPayload,
  readSealedHeader,
  type SealedHeader,
  type SealedKind,
} from './bundleSeal.js';

/**
 * Reading bundle and receipt files from removable media, and writing receipts. A file is read
 * and its clear header checked before anyone is asked for a passphrase, so the wrong file, a
 * truncated copy or a receipt given for a bundle is named at once.
 */

/** The file's text and checked header, or BundleError (READ_FAILED, TOO_LARGE, CORRUPT, WRONG_KIND). */
export function readSealedFile(
  file: string,
  kind: SealedKind,
): { text: string; header: SealedHeader } {
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
  const { fields: _fields, ...header } = readSealedHeader(text);
  if (header.kind !== kind) {
    throw new BundleError('BUNDLE_WRONG_KIND', `${file} is a ${header.kind}, not a ${kind}`);
  }
  return { text, header };
}

/** Opens a bundle file read by readSealedFile; its payload must name the header's bundle. */
export async function openBundle(text: string, wrapper: KeyWrapper): Promise<BundlePayload> {
  const { header, payload } = await openPayload(text, 'bundle', wrapper);
  const bundle = checkPayload(bundlePayloadSchema, payload, 'bundle');
  if (bundle.bundleId !== header.bundleId) {
    throw new BundleError('BUNDLE_CORRUPT', 'the bundle ID inside differs from the header');
  }
  return bundle;
}

/** Opens a receipt file read by readSealedFile; its payload must name the header's bundle. */
export async function openReceipt(text: string, wrapper: KeyWrapper): Promise<ReceiptPayload> {
  const { header, payload } = await openPayload(text, 'receipt', wrapper);
  const receipt = checkPayload(receiptPayloadSchema, payload, 'receipt');
  if (receipt.bundleId !== header.bundleId) {
    throw new BundleError('BUNDLE_CORRUPT', 'the bundle ID inside differs from the header');
  }
  return receipt;
}

/**
 * Writes the receipt of `bundleId`, replacing only an earlier receipt of the same bundle (a later
 * sync's receipt holds everything the earlier one did), never another file: a bundle given as
 * the receipt's name is BUNDLE_FILE_EXISTS. Through a temporary name in the same folder, and
 * flushed, so a stick pulled mid-write leaves the earlier receipt whole.
 */
export function writeReceiptFile(file: string, text: string, bundleId: string): void {
  if (existsSync(file) && !isReceiptOf(file, bundleId)) {
    throw new BundleError('BUNDLE_FILE_EXISTS', file);
  }
  const partial = `${file}.partial`;
  let fd: number | undefined;
  try {
    fd = openSync(partial, 'w', 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(partial, file);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError('BUNDLE_WRITE_FAILED', `${file}: ${code ?? String(err)}`, {
      cause: err,
    });
  }
}

function isReceiptOf(file: string, bundleId: string): boolean {
  try {
    const header = readSealedFile(file, 'receipt').header;
    return header.bundleId === bundleId;
  } catch {
    return false;
  }
}
