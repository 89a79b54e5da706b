import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/** An input file a supervisor named that cannot be read as one: why, in words for the message. */
export interface UnreadableInput {
  file: string;
  finding: string;
  cause?: unknown;
}

/**
 * Reads a small input file a supervisor named (`ca import`'s certificate, key or PKCS#12, `ca
 * issue`'s CSR), or says why it cannot be one: a folder, a pipe or device (which has no size and
 * could be read for ever: /dev/zero), larger than `maxBytes`, missing, not permitted. `what`
 * names what the file should be, for the size finding.
 */
export async function readBoundedInputFile(
  path: string,
  maxBytes: number,
  what: string,
): Promise<{ file: string; bytes: Uint8Array } | UnreadableInput> {
  const file = resolve(path);
  try {
    const info = await stat(file);
    if (info.isDirectory()) return { file, finding: 'a folder, not a file' };
    if (!info.isFile()) return { file, finding: 'not a regular file' };
    if (info.size > maxBytes)
      return { file, finding: `${info.size} bytes, far larger than ${what}` };
    return { file, bytes: new Uint8Array(await readFile(file)) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const finding =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code);
    return { file, finding, cause: err };
  }
}
