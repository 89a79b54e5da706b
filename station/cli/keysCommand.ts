import { REGISTRATION_ID_PATTERN } from '../../certs/registrationIdRules.js';
import { parseStationArgs } from './stationArgs.js';
import { saveGroupKey } from '../production/groupKeys.js';
import { AuditLog } from '../store/auditLog.js';
import { closeStationDatabase, openStationDatabase } from '../store/stationDatabase.js';
import { asStoreError } from '../store/storeError.js';
import { supervisorActor } from './supervisorName.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { checkedCaPassphrase } from './caPassphrase.js';
import { readPassphrase } from './passphrase.js';
import { groupKeyFingerprint } from '../sync/groupKeyFingerprint.js';
import { refuseUnaskedReplacement, storedGroupKey, storedLines } from './groupKeyReplacement.js';
import { UsageError } from './usageError.js';

export const KEYS_USAGE = `  keys set-group --group ID [--replace] [--by NAME]
                                                 store a symmetric-key enrollment group's primary key,
                                                 sealed under the CA passphrase (the key comes from
                                                 LINE_STATION_GROUP_KEY, the terminal, or stdin, then
                                                 the CA passphrase); a different key stored for the
                                                 group is replaced only with --replace (devices
                                                 provisioned before keep keys derived from the old
                                                 one); the audit trail records who (--by, else this
                                                 OS user) and a fingerprint of the key, never the
                                                 key; --data-dir DIR`;

/**
 * A group key saveGroupKey (groupKeys.ts) would refuse, refused as soon as it is read: before
 * the CA passphrase is asked for. Coded, as every error the CLI prints; the key is never in it.
 */
export class GroupKeyFormatError extends Error {
  readonly code = 'KEYS_GROUP_KEY_INVALID';

  constructor() {
    super(
      'the group key must be base64 of 16 to 64 bytes, as DPS shows it (the primary key of the enrollment group); nothing was stored',
    );
    this.name = 'GroupKeyFormatError';
  }
}

/** `station keys …`: secrets a supervisor hands to the station. */
export async function keys(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseStationArgs({
    args: rest,
    options: {
      group: { type: 'string' },
      replace: { type: 'boolean' },
      by: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  if (sub !== 'set-group') {
    console.error(`station keys: unknown subcommand "${sub ?? ''}"\n${KEYS_USAGE}`);
    return 2;
  }
  const group = values.group;
  if (!group) {
    console.error('station keys set-group: give --group ID (the DPS enrollment group ID)');
    return 2;
  }
  // saveGroupKey's rule (groupKeys.ts), checked before the key and the CA passphrase are asked
  // for: a group ID no profile can name is a typo, refused as one.
  if (!REGISTRATION_ID_PATTERN.test(group.toLowerCase())) {
    throw new UsageError(
      `--group "${group}" is not a DPS enrollment group ID: letters, digits and - . _ :, starting and ending with a letter or digit`,
    );
  }
  const dataDir = resolveDataDir(values['data-dir']);
  const actor = supervisorActor(values.by);
  const key = await readPassphrase('Group primary key (base64): ', {
    env: 'LINE_STATION_GROUP_KEY',
  });
  // Refused before the CA passphrase: a key pasted short or with a stray character costs no more.
  if (!isDpsGroupKey(key)) throw new GroupKeyFormatError();
  const wrapper = await checkedCaPassphrase(dataDir, {
    refusal: { command: 'keys set-group', actor },
  });
  // Opened before the key is sealed: a database that cannot take the audit event (damaged,
  // read-only) refuses the command before a key is stored that the trail would not show.
  const db = openStationDatabase(stationPaths(dataDir).database, { requireWritable: true });
  try {
    const stored = await storedGroupKey(dataDir, group, wrapper);
    const keyFingerprint = fingerprint(key);
    refuseUnaskedReplacement(stored, keyFingerprint, {
      group,
      dataDir,
      replace: values.replace ?? false,
    });
    const file = await saveGroupKey(dataDir, group, key, wrapper);
    asStoreError('record group-key.stored', () =>
      new AuditLog(db).append({
        at: new Date(),
        actor,
        kind: 'group-key.stored',
        subject: `group:${group.toLowerCase()}`,
        detail: {
          enrollmentGroupId: group,
          replaced: stored.kind !== 'none',
          keyFingerprint,
          // Which key the trail saw go: the old devices' keys derive from it.
          ...(stored.kind === 'stored' && {
            sameKey: stored.fingerprint === keyFingerprint,
            previousKeyFingerprint: stored.fingerprint,
          }),
          ...(stored.kind === 'unreadable' && { previousKeyUnreadable: true }),
        },
      }),
    );
    for (const line of storedLines(stored, keyFingerprint, { group, dataDir, file })) {
      console.log(line);
    }
    return 0;
  } finally {
    closeStationDatabase(db);
  }
}

/**
 * The key's fingerprint (groupKeyFingerprint.ts): the one the sync compares DPS's group keys by
 * and a bundle carries, so the trail's record names the key those report on.
 */
function fingerprint(keyBase64: string): string {
  const bytes = Buffer.from(keyBase64.trim(), 'base64');
  try {
    return groupKeyFingerprint(bytes);
  } finally {
    bytes.fill(0);
  }
}

/** Whether saveGroupKey (groupKeys.ts) takes the key: base64 of 16 to 64 bytes, exactly. */
function isDpsGroupKey(keyBase64: string): boolean {
  const bytes = Buffer.from(keyBase64.trim(), 'base64');
  try {
    return (
      bytes.length >= 16 && bytes.length <= 64 && bytes.toString('base64') === keyBase64.trim()
    );
  } finally {
    bytes.fill(0);
  }
}
