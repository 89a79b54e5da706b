import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TpmContents } from './deviceFirmware.js';
import type { DeviceSlot, TpmProvider } from './simulator.js';

/** EK public area of device S: `S.ekpub`, TPM2B_PUBLIC bytes as the TPM marshals them. */
export const EK_PUBLIC_SUFFIX = '.ekpub';
/** EK certificate of device S: `S.ekcert`, DER; optional (a TPM may hold none). */
export const EK_CERTIFICATE_SUFFIX = '.ekcert';

/**
 * A TpmProvider that reads each device's TPM from `dir`, one file pair per serial number
 * (`--tpm-dir`). Every device must have its `.ekpub`; a missing one fails with the file's path.
 */
export function tpmFromDirectory(dir: string): TpmProvider {
  return async ({ serialNumber }: DeviceSlot): Promise<TpmContents> => {
    const ekPublicFile = join(dir, `${serialNumber}${EK_PUBLIC_SUFFIX}`);
    const ekPublic = await readIfPresent(ekPublicFile);
    if (ekPublic === undefined) {
      throw new Error(
        `${ekPublicFile} not found: with a TPM directory, every device needs its EK public (TPM2B_PUBLIC)`,
      );
    }
    const ekCertificate = await readIfPresent(join(dir, `${serialNumber}${EK_CERTIFICATE_SUFFIX}`));
    return ekCertificate === undefined ? { ekPublic } : { ekPublic, ekCertificate };
  };
}

/** The file's bytes, or undefined when it does not exist; any other failure names the file. */
async function readIfPresent(file: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Node's own text leaves the path out for some codes (EISDIR).
    throw new Error(`${file}: cannot read (${code ?? (err as Error).message})`, { cause: err });
  }
}
