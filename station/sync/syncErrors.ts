/**
 * Errors of the outbox sync worker, station side (DPS's own errors are DpsError, dps/dpsErrors.ts).
 * Each code has operator text saying what to do; the detail for the log never holds a key, a SAS
 * token or a connection string. Codes never change meaning; new cases get new codes. An outbox row
 * keeps its code in `last_error_code` and the detail in `last_error`.
 */
import { untrustedDpsText } from './tlsRefusal.js';

export const syncErrorText = {
  SYNC_SECRET_MISSING:
    'The symmetric key of this enrollment is missing or empty, so it cannot be sent to DPS. Provision the device again.',
  SYNC_SECRET_UNREADABLE:
    'The sealed symmetric key of this enrollment is damaged. Provision the device again.',
  SYNC_SECRET_LOCKED:
    'The station cannot open its sealed keys (passphrase or key store). A supervisor must unlock the station; the enrollment waits.',
  SYNC_BODY_INVALID:
    'The stored enrollment cannot be read as a DPS enrollment. Call engineering; the device may need provisioning again.',
  SYNC_CONFLICT:
    'DPS already holds this registration ID with other credentials. A supervisor must compare both records and decide.',
  // A group member needs no enrollment of its own, but it registers only through its group:
  // synced means DPS showed that group, enabled, holding the station's group key.
  SYNC_GROUP_MISSING:
    "DPS holds no enrollment group of the name this device's profile gives (the detail names it), so the device cannot register. A supervisor must create that enrollment group in DPS, with symmetric-key attestation and the group key stored on this station (`station keys set-group`) as its primary key, then requeue: `station queue requeue --status failed --by NAME`.",
  SYNC_GROUP_MISMATCH:
    "DPS holds the enrollment group this device's profile names, but the device cannot register through it: the detail says what differs (disabled, another attestation, or neither of its keys is the group key the device's key was derived from). A supervisor must fix the group in DPS (enabled, symmetric-key attestation, that group key as its primary or secondary key), then requeue: `station queue requeue --status failed --by NAME`. If DPS's key is the right one, the devices hold keys derived from the wrong one: store DPS's key on the station (`station keys set-group --replace`) and provision them again.",
  SYNC_GROUP_KEY_UNAVAILABLE:
    "The station cannot compare this device's enrollment group with DPS: the group key stored on this station cannot be opened here (not stored, the station is locked, or the bundle carries no fingerprint of it). The enrollment waits; a supervisor must store the group key (`station keys set-group`). For a bundle, no run of it can confirm these members: receiving its receipt on the line (`station bundle receive`) lets them go, and they travel in the next `station bundle export` (this version's, which carries the fingerprint).",
  SYNC_INDIVIDUAL_ENROLLMENT_FIRST:
    "An earlier individual enrollment of this device, made by this station, is still in DPS under the same registration ID, and DPS would take the device to it before its enrollment group. The station deletes it (the detail says why it has not yet); the enrollment waits until then. Across an air gap it goes again with the deletion: in the same bundle synced again, or in the line's next bundle.",
  // Set by `station ca revoke` (station/store/revokedEnrollment.ts), never by a sync.
  SYNC_CERTIFICATE_REVOKED:
    "A supervisor revoked this enrollment's certificate (`station ca revoke`), so the station never sends it to DPS, and requeue refuses it. If DPS may hold it already, the sync disables it there. To give the device an identity again, provision it again.",
  SYNC_DPS_REJECTED:
    'DPS refused this enrollment. Check the DPS error shown with it and the product profile.',
  SYNC_DPS_RETRY:
    'DPS could not take this enrollment right now. The station waits and tries again.',
  SYNC_CREDENTIALS_REFUSED:
    'DPS refused the station credentials. A supervisor must set the DPS connection string again.',
  SYNC_NOT_CONFIGURED:
    'No DPS connection is set for this station. A supervisor must run `station sync set-connection`.',
  SYNC_OFFLINE: 'DPS cannot be reached. Enrollments stay queued and are sent when it can.',
  SYNC_DPS_HOST_UNKNOWN:
    "The DPS host name does not resolve to an address. A supervisor must check the host name in the DPS connection string (`station sync set-connection`), or this machine's DNS settings; enrollments stay queued and are sent once it resolves.",
  SYNC_DPS_CONNECTION_REFUSED:
    'The DPS host refused the connection: nothing accepts it on that port. A supervisor must check the host name and port in the DPS connection string (`station sync set-connection`) and any proxy or firewall on the way; on a DEMO or training line, that the DPS emulator is running on that port (`station emulator --port N`). Enrollments stay queued and are sent once it accepts.',
  // The worker says which check failed (tlsRefusal.ts); this is the text when it cannot tell.
  SYNC_DPS_UNTRUSTED: untrustedDpsText(undefined),
  SYNC_CLOCK_WRONG:
    "DPS refused the station's sign-in because this station's clock is behind. A supervisor must set the station's date and time; enrollments wait and are sent once it is right.",
  SYNC_WORKER_ELSEWHERE:
    'Another Line Station process is syncing this station database (the running station, or another sync). Use Sync now there, or wait until it ends.',
  SYNC_STORE_FAILED:
    'The station cannot read or record the outbox in its database (disk full, read-only or failing disk). Nothing is lost: enrollments wait, and what DPS already answered is recorded once the database takes it. A supervisor must check the disk of the station data folder.',
  // A lock is no disk fault: a supervisor sent to the disk would find it healthy.
  SYNC_STORE_BUSY:
    "Another program holds the station database (a supervisor's command still running, a backup tool, sqlite3), so the sync cannot read or record the outbox right now. Nothing is lost: the sync waits and tries again by itself. If this lasts, a supervisor must find that program on the station data folder and end it.",
  SYNC_PAUSED: 'Sync is paused. Resume it to send the queued enrollments.',
  SYNC_STOPPED: 'Sync has stopped.',
  SYNC_INTERNAL:
    'The sync worker hit an unexpected error. It retries later; if it repeats, call engineering.',
} as const;

export type SyncErrorCode = keyof typeof syncErrorText;

/** An error of the sync worker: `{ code, message, detail }` like every error leaving the core. */
export class SyncError extends Error {
  /**
   * @param options.message the code's text said more precisely (which certificate check failed);
   *   the code keeps its meaning.
   */
  constructor(
    readonly code: SyncErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown; message?: string },
  ) {
    super(
      options?.message ?? syncErrorText[code],
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'SyncError';
  }

  toJSON(): { code: SyncErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}
