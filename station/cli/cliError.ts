import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DATA_DIR_RULE, dataDirOrigin } from './dataDir.js';
import { PASSPHRASE_CREDENTIAL, PASSPHRASE_ENV, passphraseCredentialPath } from './passphrase.js';
import { secretFromEnv } from './secretEnv.js';

/**
 * Prints an error that ended a command, as the operator reads it, and returns the exit code for
 * it: 2 for a usage error (a misspelt or malformed option), otherwise 1. Coded errors (CertError,
 * WireError, StationStartError) carry operator text and a stable code; the detail goes last.
 */
export function reportCliError(err: unknown): number {
  const coded = err as { code?: unknown; detail?: unknown; message?: unknown };
  const message = typeof coded.message === 'string' ? coded.message : String(err);
  const code = typeof coded.code === 'string' ? ` [${coded.code}]` : '';
  const detail = typeof coded.detail === 'string' ? `\n  detail: ${coded.detail}` : '';
  console.error(`station: ${message}${code}${detail}`);
  // "Try again" is no help when nobody typed it: the passphrase came from the environment.
  if (coded.code === 'CUSTODY_WRONG_PASSPHRASE') {
    const credential = passphraseCredentialPath();
    if (secretFromEnv(PASSPHRASE_ENV)) {
      console.error(
        `The passphrase came from ${PASSPHRASE_ENV}: correct it, or unset it to type it.`,
      );
    } else if (credential !== undefined && existsSync(credential)) {
      console.error(
        `The passphrase came from the systemd credential ${PASSPHRASE_CREDENTIAL}: encrypt the right one again (systemd-creds encrypt).`,
      );
    }
  }
  // A mistyped or forgotten data folder reads as "no CA yet": say which folder was looked in.
  if (coded.code === 'CA_NOT_INITIALISED' && typeof coded.detail === 'string') {
    console.error(caNotFoundHint(coded.detail));
  }
  const usage =
    typeof coded.code === 'string' &&
    (coded.code === 'CLI_USAGE' || coded.code.startsWith('ERR_PARSE_ARGS_'));
  if (usage) console.error('Run `station help` for the commands and their options.');
  return usage ? 2 : 1;
}

/** The hint under CA_NOT_INITIALISED, whose detail is the CA folder looked in (<data>/ca). */
function caNotFoundHint(caDir: string): string {
  const where =
    basename(caDir) === 'ca'
      ? `the data folder ${dirname(caDir)} (${dataDirOrigin(dirname(caDir))})`
      : caDir;
  return `No CA was found in ${where}; ${DATA_DIR_RULE}. If this station's CA is in another folder, name that one; to make a CA here, run \`station ca init\` or \`station ca import\`.`;
}
