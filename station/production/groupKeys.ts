/**
 * Symmetric-key enrollment group keys on a real station. A supervisor stores each group's
 * primary key once (`station keys set-group`); it is sealed under the CA passphrase like every
 * other station secret and opened once per line start, never written in clear.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../certs/ca/caFiles.js';
import { REGISTRATION_ID_PATTERN } from '../../certs/registrationIdRules.js';
import { join } from 'node:path';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { openSecret, parseSealedSecret, sealSecret } from '../../certs/custody/secretBox.js';
import { StationStartError } from '../api/stationFactory.js';
import type { GroupKeySource } from '../line/attestation/attestor.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { shellWord, stationCommand } from '../cli/stationCommand.js';

function groupKeyContext(enrollmentGroupId: string): string {
  return `line-station/dps/group-key/${enrollmentGroupId.toLowerCase()}`;
}

export function groupKeyFile(dataDir: string, enrollmentGroupId: string): string {
  return join(dataDir, 'keys', `group-${enrollmentGroupId.toLowerCase()}.sealed.json`);
}

/** Seals a group's primary key (base64, as DPS shows it) into the data directory. */
export async function saveGroupKey(
  dataDir: string,
  enrollmentGroupId: string,
  keyBase64: string,
  wrapper: KeyWrapper,
): Promise<string> {
  // The rule profiles hold enrollmentGroupId to (DPS group IDs follow the registration ID
  // rules), on the lower-case form the key is stored under: a key no profile can name is unusable.
  if (!REGISTRATION_ID_PATTERN.test(enrollmentGroupId.toLowerCase())) {
    throw new RangeError(
      'the enrollment group ID is not valid for DPS: letters, digits and - . _ :, starting and ending with a letter or digit',
    );
  }
  const key = Buffer.from(keyBase64.trim(), 'base64');
  try {
    // DPS takes symmetric keys of 16 to 64 bytes; HMAC would use a longer one through its hash.
    if (key.length < 16 || key.length > 64 || key.toString('base64') !== keyBase64.trim()) {
      throw new RangeError('the group key must be base64 of 16 to 64 bytes, as DPS shows it');
    }
    const sealed = await sealSecret(key, wrapper, groupKeyContext(enrollmentGroupId));
    const file = groupKeyFile(dataDir, enrollmentGroupId);
    await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
    // Never half a key file, even after a power cut.
    await writeFileAtomic(file, JSON.stringify(sealed, null, 2));
    return file;
  } finally {
    key.fill(0);
  }
}

/**
 * Refuses a symmetric-key-group profile whose group has no key stored in `dataDir`, with the
 * command that stores it: without one the line would start and fail every device at attest
 * (RUN_GROUP_KEY_UNAVAILABLE). Whether the key opens is known only with the passphrase; the
 * line's start finds that out.
 */
export function checkGroupKeyStored(dataDir: string, profile: ProductProfile): void {
  const { mode, enrollmentGroupId } = profile.attestation;
  if (mode !== 'symmetric-key-group' || enrollmentGroupId === undefined) return;
  if (existsSync(groupKeyFile(dataDir, enrollmentGroupId))) return;
  throw new StationStartError(
    'STATION_GROUP_KEY_MISSING',
    `Product "${profile.name}" enrolls its devices in the group "${enrollmentGroupId}", but no key is stored for that group in ${dataDir}, so every device would fail. A supervisor stores the group's primary key (from DPS) first: \`${setGroupCommand(enrollmentGroupId, dataDir)}\`.`,
  );
}

function setGroupCommand(enrollmentGroupId: string, dataDir: string): string {
  return stationCommand(`keys set-group --group ${shellWord(enrollmentGroupId)}`, dataDir);
}

/**
 * The line's GroupKeySource: each group key is unsealed on first use and kept in this process
 * only; every caller gets its own copy (the line zeroes it after deriving a device key).
 */
export function loadGroupKeySource(dataDir: string, wrapper: KeyWrapper): GroupKeySource {
  const opened = new Map<string, Promise<Buffer>>();
  const open = async (enrollmentGroupId: string): Promise<Buffer> => {
    const file = groupKeyFile(dataDir, enrollmentGroupId);
    if (!existsSync(file)) {
      throw new StationStartError(
        'STATION_NOT_CONFIGURED',
        `No key is stored for enrollment group "${enrollmentGroupId}". A supervisor must run \`${setGroupCommand(enrollmentGroupId, dataDir)}\`.`,
      );
    }
    const sealed = parseSealedSecret(await readFile(file, 'utf8'));
    return openSecret(sealed, wrapper, groupKeyContext(enrollmentGroupId));
  };
  return async (enrollmentGroupId) => {
    const id = enrollmentGroupId.toLowerCase();
    let key = opened.get(id);
    if (!key) {
      key = open(enrollmentGroupId);
      opened.set(id, key);
      // A failed open (wrong passphrase, missing file) is retried on the next run.
      key.catch(() => opened.delete(id));
    }
    return new Uint8Array(await key);
  };
}
