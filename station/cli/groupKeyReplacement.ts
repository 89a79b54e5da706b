/**
 * What `station keys set-group` does to a key already stored for the group. Each device of a
 * symmetric-key group carries a key derived from the group key at provisioning: a different key
 * stored over the group's silently gave every later device a key DPS's group would not take,
 * while the devices provisioned before keep theirs. So a stored key is compared with the new one
 * (by fingerprint, groupKeyFingerprint.ts, never the key), and a different one is replaced only
 * when the supervisor says so (`--replace`).
 */
import { existsSync } from 'node:fs';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { groupKeyFile, loadGroupKeySource } from '../production/groupKeys.js';
import { groupKeyFingerprint, shortFingerprint } from '../sync/groupKeyFingerprint.js';
import { servingStation } from '../sync/servingStation.js';
import { shellWord, stationCommand } from './stationCommand.js';

/**
 * Why `keys set-group` refused to replace a stored key. KEYS_GROUP_KEY_DIFFERS: another key is
 * stored for the group; KEYS_GROUP_KEY_UNREADABLE: the stored one does not open, so whether it
 * differs is unknown. Both are lifted by `--replace`.
 */
export type KeysErrorCode = 'KEYS_GROUP_KEY_DIFFERS' | 'KEYS_GROUP_KEY_UNREADABLE';

export class KeysError extends Error {
  constructor(
    readonly code: KeysErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'KeysError';
  }
}

/** The key stored for a group before this command, as far as it can be told. */
export type StoredGroupKey =
  | { kind: 'none' }
  | { kind: 'stored'; fingerprint: string }
  /** `why`: the opener's code and text (damaged file, sealed under another passphrase). */
  | { kind: 'unreadable'; why: string };

/** The fingerprint of the key stored for `group` in `dataDir`, opened with the CA's wrapper. */
export async function storedGroupKey(
  dataDir: string,
  group: string,
  wrapper: KeyWrapper,
): Promise<StoredGroupKey> {
  if (!existsSync(groupKeyFile(dataDir, group))) return { kind: 'none' };
  let key: Uint8Array;
  try {
    key = await loadGroupKeySource(dataDir, wrapper)(group);
  } catch (err) {
    // The opener's code and text hold no key.
    const { code, message } = err as { code?: unknown; message?: unknown };
    const why = [code, message].filter((part) => typeof part === 'string').join(': ');
    return { kind: 'unreadable', why: why || String(err) };
  }
  try {
    return { kind: 'stored', fingerprint: groupKeyFingerprint(key) };
  } finally {
    key.fill(0);
  }
}

/**
 * Refuses a replacement the supervisor did not ask for: a different key stored, or one that does
 * not open. The same key stored again is no replacement, and goes on.
 */
export function refuseUnaskedReplacement(
  stored: StoredGroupKey,
  newFingerprint: string,
  command: { group: string; dataDir: string; replace: boolean },
): void {
  if (command.replace || stored.kind === 'none') return;
  if (stored.kind === 'stored' && stored.fingerprint === newFingerprint) return;
  const id = command.group.toLowerCase();
  const again = stationCommand(
    `keys set-group --group ${shellWord(id)} --replace`,
    command.dataDir,
  );
  const devices = `Devices provisioned with the stored key keep keys derived from it: they register only while DPS's enrollment group "${id}" holds that key as its primary or secondary key.`;
  if (stored.kind === 'unreadable') {
    throw new KeysError(
      'KEYS_GROUP_KEY_UNREADABLE',
      `A key is stored for group "${id}" but does not open here, so whether the key given (fingerprint ${shortFingerprint(newFingerprint)}) is the same cannot be told; nothing was changed. ${devices} To store the key given in its place, run \`${again}\`.`,
      stored.why,
    );
  }
  throw new KeysError(
    'KEYS_GROUP_KEY_DIFFERS',
    `Group "${id}" already has a different key stored (fingerprint ${shortFingerprint(stored.fingerprint)}; the key given: ${shortFingerprint(newFingerprint)}); nothing was changed. ${devices} If the key given is the group's key in DPS, replace the stored one: \`${again}\`.`,
  );
}

/** What the command says once the key is sealed in `file`. */
export function storedLines(
  stored: StoredGroupKey,
  newFingerprint: string,
  command: { group: string; dataDir: string; file: string },
): string[] {
  const id = command.group.toLowerCase();
  // "Gadgets" and "gadgets" are one group to the station: say so, or the second looks like a
  // second group's key.
  const caseNote =
    command.group === id
      ? ''
      : ` (group IDs are kept in lower case: "${command.group}" is "${id}")`;
  const fresh = shortFingerprint(newFingerprint);
  if (stored.kind === 'none') {
    return [
      `The key of group "${id}"${caseNote} is sealed in ${command.file} (key fingerprint ${fresh}).`,
    ];
  }
  if (stored.kind === 'stored' && stored.fingerprint === newFingerprint) {
    return [
      `The key of group "${id}"${caseNote} is sealed in ${command.file} again: it is the key stored before (key fingerprint ${fresh}), so nothing changes for the devices.`,
    ];
  }
  const before =
    stored.kind === 'stored'
      ? `a different key (fingerprint ${shortFingerprint(stored.fingerprint)})`
      : `a key that did not open here (${stored.why})`;
  const lines = [
    `The key of group "${id}"${caseNote} REPLACES the key stored before in ${command.file}: the stored one was ${before}; the new key's fingerprint is ${fresh}.`,
    `Devices provisioned before keep keys derived from the old key: they fail to register unless DPS's enrollment group "${id}" holds the old key as its other key (primary or secondary) beside the new one. Devices provisioned from now on get keys derived from the new key.`,
  ];
  const serving = servingStation(command.dataDir);
  if (serving !== undefined) {
    // The line opened the group key once, at its start or unlock (groupKeys.ts), and keeps it.
    lines.push(
      `A line serves this data folder now (process ${serving.pid} on ${serving.host}): it goes on with the key it opened at its start or unlock until it is restarted, so restart it, or the devices it provisions get keys derived from the old key.`,
    );
  }
  return lines;
}
