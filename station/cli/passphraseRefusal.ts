import type Database from 'better-sqlite3';
import { appendAuditEvent } from '../store/auditAppend.js';
import { AuditLog, type AuditActor } from '../store/auditLog.js';
import { asStoreError } from '../store/storeError.js';
import { caPassphraseSource } from './passphrase.js';

/** The audit event of a wrong CA passphrase typed at a command (not at a locked line's form). */
export const PASSPHRASE_REFUSED = 'ca.passphrase-refused';

/** Which command asked for the CA passphrase, and who ran it, for the refusal's event. */
export interface PassphraseAsker {
  /** As typed after `station`: `ca issue`, `provision`, `sync set-connection`. */
  command: string;
  actor: AuditActor;
}

/**
 * Runs `attempt`, which reads the CA passphrase and opens the CA with it, and records a wrong
 * one (CUSTODY_WRONG_PASSPHRASE) as `ca.passphrase-refused` before passing the error on: a
 * locked line's form records each wrong try (`line.unlock-refused`), and guesses typed at a
 * command must show in the same trail. The event names the command, who ran it and where the
 * passphrase came from; never the passphrase. `trail`: the station database's path (made if
 * none is there yet, as `ca init` makes it), or the command's open database.
 */
export async function recordingPassphraseRefusal<T>(
  trail: string | Database.Database,
  asker: PassphraseAsker,
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'CUSTODY_WRONG_PASSPHRASE') record(trail, asker);
    throw err;
  }
}

function record(trail: string | Database.Database, asker: PassphraseAsker): void {
  const event = {
    actor: asker.actor,
    kind: PASSPHRASE_REFUSED,
    subject: 'ca',
    detail: { command: asker.command, passphraseFrom: caPassphraseSource() },
  };
  try {
    if (typeof trail === 'string') appendAuditEvent(trail, event);
    else {
      asStoreError(`record ${PASSPHRASE_REFUSED}`, () =>
        new AuditLog(trail).append({ ...event, at: new Date() }),
      );
    }
  } catch (err) {
    // The refusal is what the command reports; that the trail missed it is said beside it,
    // as a locked line logs it, rather than hiding the wrong passphrase behind a store error.
    const coded = err as { code?: unknown; message?: unknown };
    const code = typeof coded.code === 'string' ? ` [${coded.code}]` : '';
    const why = typeof coded.message === 'string' ? coded.message : String(err);
    console.error(`note: the wrong passphrase was not written to the audit trail: ${why}${code}`);
  }
}
