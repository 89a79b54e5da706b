/**
 * Custody of the DPS service connection string (its SharedAccessKey signs every call the sync
 * worker makes). A supervisor stores it once; it is sealed like every other station secret
 * (secretBox: AES-256-GCM under a fresh data key, wrapped by the KeyWrapper, in practice the CA
 * passphrase) and never written in clear. Only the host name and policy name are ever shown.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../certs/ca/caFiles.js';
import { join } from 'node:path';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { openSecret, parseSealedSecret, sealSecret } from '../../certs/custody/secretBox.js';
import {
  formatConnectionString,
  parseConnectionString,
  type DpsConnectionString,
} from '../../dps/auth/connectionString.js';
import { SyncError } from './syncErrors.js';

/** Bound into the ciphertext: no other sealed file can be passed off as this one. */
export const DPS_CONNECTION_CONTEXT = 'line-station/dps/service-connection-string';

/** What may be shown of a stored connection: never the key. */
export interface DpsConnectionSummary {
  file: string;
  hostName: string;
  sharedAccessKeyName: string;
}

export function dpsConnectionFile(dataDir: string): string {
  return join(dataDir, 'dps', 'connection.sealed.json');
}

export function hasDpsConnection(dataDir: string): boolean {
  return existsSync(dpsConnectionFile(dataDir));
}

/**
 * Checks and seals a connection string into `<dataDir>/dps/connection.sealed.json`, replacing
 * any earlier one. Throws DpsError DPS_CONNECTION_STRING_INVALID (naming the field, never the
 * key) before anything is written.
 */
export async function saveDpsConnectionString(
  dataDir: string,
  connectionString: string,
  wrapper: KeyWrapper,
): Promise<DpsConnectionSummary> {
  const parsed = parseConnectionString(connectionString);
  const plaintext = Buffer.from(formatConnectionString(parsed), 'utf8');
  try {
    const sealed = await sealSecret(plaintext, wrapper, DPS_CONNECTION_CONTEXT);
    const file = dpsConnectionFile(dataDir);
    await mkdir(join(dataDir, 'dps'), { recursive: true, mode: 0o700 });
    // Never half a file, nor an empty one, even after a power cut.
    await writeFileAtomic(file, JSON.stringify(sealed, null, 2));
    return { file, hostName: parsed.hostName, sharedAccessKeyName: parsed.sharedAccessKeyName };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Unseals the stored connection string. The result holds the key: hand it to the DPS client and
 * never log it. Throws SyncError SYNC_NOT_CONFIGURED when none is stored; CertError
 * CUSTODY_WRONG_PASSPHRASE, CUSTODY_KEY_FILE_CORRUPT or CUSTODY_WRAPPER_MISMATCH from custody.
 */
export async function loadDpsConnectionString(
  dataDir: string,
  wrapper: KeyWrapper,
): Promise<DpsConnectionString> {
  const file = dpsConnectionFile(dataDir);
  if (!existsSync(file)) throw new SyncError('SYNC_NOT_CONFIGURED', `${file} does not exist`);
  const sealed = parseSealedSecret(await readFile(file, 'utf8'));
  const plaintext = await openSecret(sealed, wrapper, DPS_CONNECTION_CONTEXT);
  try {
    return parseConnectionString(plaintext.toString('utf8'));
  } finally {
    plaintext.fill(0);
  }
}
