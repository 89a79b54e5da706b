import { createHash } from 'node:crypto';
import type { GroupKeySource } from '../line/attestation/attestor.js';
import { SyncError } from './syncErrors.js';

/** What the fingerprint hashes before the key, so that it can never be the key's plain hash. */
export const GROUP_KEY_FINGERPRINT_LABEL = 'line-station group-key fingerprint\0';

/**
 * SHA-256 of a label and an enrollment group key's bytes (lower-case hex). It tells which key
 * is meant (the same key always gives the same fingerprint: `keys set-group` records it in the
 * audit trail, a bundle carries it, the sync compares DPS's keys by it) and reveals nothing of a
 * random key of 16 bytes or more. Not the key's plain SHA-256: HMAC uses that in place of any
 * key over 64 bytes, so it would be a working copy of such a key.
 */
export function groupKeyFingerprint(key: Uint8Array): string {
  return createHash('sha256').update(GROUP_KEY_FINGERPRINT_LABEL).update(key).digest('hex');
}

/**
 * A fingerprint as the station shows it: its first 12 hex digits. `keys set-group` and the
 * sync's SYNC_GROUP_MISMATCH detail both print this form, so the two can be compared by eye.
 */
export function shortFingerprint(fingerprint: string): string {
  return `${fingerprint.slice(0, 12)}…`;
}

/**
 * The fingerprint of the group key this station holds for an enrollment group (any letter
 * case). Throws SyncError SYNC_GROUP_KEY_UNAVAILABLE when it has none it can open: the group's
 * members then wait, as nothing can tell whether DPS's group is theirs.
 */
export type GroupKeyFingerprints = (enrollmentGroupId: string) => Promise<string>;

/**
 * The sync's view of a line's group keys: each key is opened once, fingerprinted and zeroed;
 * only the fingerprint is kept. A key that does not open is asked again next time (the
 * supervisor may store it meanwhile).
 */
export function groupKeyFingerprints(source: GroupKeySource): GroupKeyFingerprints {
  const known = new Map<string, string>();
  return async (enrollmentGroupId) => {
    const id = enrollmentGroupId.toLowerCase();
    const kept = known.get(id);
    if (kept !== undefined) return kept;
    let key: Uint8Array;
    try {
      key = await source(id);
    } catch (err) {
      // The opener's code and text say why (no key stored, a wrong passphrase); neither holds
      // the key.
      const { code, message } = err as { code?: unknown; message?: unknown };
      const why = [code, message].filter((part) => typeof part === 'string').join(': ');
      throw new SyncError(
        'SYNC_GROUP_KEY_UNAVAILABLE',
        `the key of enrollment group ${id} does not open on this station: ${why || String(err)}`,
        { cause: err },
      );
    }
    try {
      const fingerprint = groupKeyFingerprint(key);
      known.set(id, fingerprint);
      return fingerprint;
    } finally {
      key.fill(0);
    }
  };
}

/** The fingerprints a bundle carries (bundlePayload.ts), by lower-case group ID. */
export function carriedGroupKeyFingerprints(
  carried: Readonly<Record<string, string>> | undefined,
): GroupKeyFingerprints {
  return (enrollmentGroupId) => {
    const id = enrollmentGroupId.toLowerCase();
    const fingerprint = carried?.[id];
    if (fingerprint !== undefined) return Promise.resolve(fingerprint);
    return Promise.reject(
      new SyncError(
        'SYNC_GROUP_KEY_UNAVAILABLE',
        `the bundle carries no fingerprint of the key of enrollment group ${id} (exported by an earlier version, or its key did not open at export)`,
      ),
    );
  };
}
