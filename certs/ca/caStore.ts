import { join } from 'node:path';

import { CertError } from '../certErrors.js';
import { parseSealedSecret, type SealedSecret } from '../custody/secretBox.js';
import { CA_FILES, prepareCaDir, readTextIfPresent, writeFileAtomic } from './caFiles.js';
import { parseCaRecord, serialiseCaRecord, type CaRecord } from './caRecord.js';

/**
 * Seal contexts of the CA keys. Distinct contexts mean the root key's file cannot be put in
 * place of the issuing key's (or a DPS secret's in place of either): opening would fail.
 */
export const CA_KEY_CONTEXT = {
  issuingKey: 'line-station/ca/issuing-key',
  rootKey: 'line-station/ca/root-key',
} as const;

/** Refuses with CA_ALREADY_INITIALISED when `caDir` already holds a CA. */
export async function assertNoCa(caDir: string): Promise<void> {
  if ((await readTextIfPresent(join(caDir, CA_FILES.record))) !== undefined) {
    throw new CertError('CA_ALREADY_INITIALISED', caDir);
  }
}

/**
 * Writes a new CA: the sealed keys first, `ca.json` last and exclusively, so a crash leaves either
 * no CA (stray key files are overwritten by the next attempt) or a complete one, and of two
 * concurrent initialisations only one gets `ca.json`. (The loser may still have replaced the
 * winner's key file; the station core is the CA directory's only writer, and unlock would refuse
 * such a pair with CA_KEY_MISMATCH rather than use it.)
 */
export async function writeNewCa(
  caDir: string,
  files: { record: CaRecord; issuingKey: SealedSecret; rootKey?: SealedSecret },
): Promise<void> {
  await assertNoCa(caDir);
  await prepareCaDir(caDir);
  if (files.rootKey !== undefined) {
    await writeFileAtomic(join(caDir, CA_FILES.rootKey), JSON.stringify(files.rootKey));
  }
  await writeFileAtomic(join(caDir, CA_FILES.issuingKey), JSON.stringify(files.issuingKey));
  try {
    await writeFileAtomic(join(caDir, CA_FILES.record), serialiseCaRecord(files.record), {
      exclusive: true,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CertError('CA_ALREADY_INITIALISED', caDir, { cause: err });
    }
    throw err;
  }
}

/** `ca.json` and the sealed issuing key, read but not decrypted. */
export async function readCa(
  caDir: string,
): Promise<{ record: CaRecord; issuingKey: SealedSecret }> {
  const recordText = await readTextIfPresent(join(caDir, CA_FILES.record));
  if (recordText === undefined) throw new CertError('CA_NOT_INITIALISED', caDir);
  const record = parseCaRecord(recordText);
  const keyText = await readTextIfPresent(join(caDir, CA_FILES.issuingKey));
  if (keyText === undefined) {
    throw new CertError('CUSTODY_KEY_FILE_CORRUPT', `${CA_FILES.issuingKey} is missing`);
  }
  return { record, issuingKey: parseSealedSecret(keyText) };
}
