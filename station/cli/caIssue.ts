import { resolve } from 'node:path';
import { readBoundedInputFile } from '../../certs/ca/boundedInputFile.js';
import type { LockedCa } from '../../certs/ca/openCa.js';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { registrationIdProblem } from '../../certs/registrationIdRules.js';
import { StationCa } from '../../certs/stationCa.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { SupervisedLedger } from '../store/supervisedLedger.js';
import { CaIssuedNotSavedError, IssueOutFile } from './caIssueOut.js';
import type { stationPaths } from './dataDir.js';
import { readPassphrase } from './passphrase.js';
import { recordingPassphraseRefusal } from './passphraseRefusal.js';
import { supervisorActor } from './supervisorName.js';
import { zonedLocalTime } from './timeFlags.js';
import { UsageError } from './usageError.js';

/** The flags of `station ca issue`. */
export interface IssueFlags {
  csr?: string | undefined;
  id?: string | undefined;
  out?: string | undefined;
  force: boolean;
  by?: string | undefined;
}

/**
 * `station ca issue`: a leaf for a CSR, signed by hand and recorded in the ledger, printed on
 * standard output or written into --out FILE. Everything that can be refused without the CA is
 * refused before the passphrase, the --out FILE among it: once issued, a certificate is in the
 * ledger as issued, kept or not.
 */
export async function issue(
  locked: LockedCa,
  paths: ReturnType<typeof stationPaths>,
  flags: IssueFlags,
): Promise<number> {
  const { csr: csrFile, id, out } = flags;
  if (!csrFile || !id) {
    console.error('station ca issue: give --csr FILE and --id REGISTRATION_ID');
    return 2;
  }
  // Said of the flag: no profile template is involved here.
  const idProblem = registrationIdProblem(id, { x509: true });
  if (idProblem) {
    console.error(`station ca issue: --id "${id}" ${idProblem} (a DPS registration ID).`);
    return 2;
  }
  if (flags.force && out === undefined) {
    throw new UsageError('--force replaces the --out FILE: without --out there is no file');
  }
  const actor = supervisorActor(flags.by);
  // Read first: a CSR that is not there must not leave an --out file open or a database made.
  const csr = await readCsr(csrFile);
  const outFile = out === undefined ? undefined : await IssueOutFile.open(out, flags.force);
  let written = false;
  try {
    const db = openStationDatabase(paths.database);
    try {
      const ledger = new SupervisedLedger(db, actor, {
        csrFile: resolve(csrFile),
        ...(outFile !== undefined && { outFile: outFile.file }),
      });
      const stationCa = new StationCa(locked, ledger);
      await recordingPassphraseRefusal(db, { command: 'ca issue', actor }, async () =>
        stationCa.unlock(new PassphraseKeyWrapper(await readPassphrase('CA passphrase: '))),
      );
      const issued = await stationCa.issueFromCsr(derOrPem(csr), { registrationId: id });
      stationCa.lock();
      const pem = [issued.certificateDer, ...issued.chainDer].map(certificateToPem).join('');
      if (outFile === undefined) process.stdout.write(pem);
      else
        await outFile.write(pem, issued, paths.dataDir).catch((err: unknown) => {
          if (err instanceof CaIssuedNotSavedError) notSaved(ledger, issued, err.detail);
          throw err;
        });
      written = true;
      console.error(
        `Issued ${issued.serialNumber} for ${issued.registrationId}, valid to ${zonedLocalTime(issued.notAfter.toISOString())}.`,
      );
      return 0;
    } finally {
      db.close();
    }
  } finally {
    if (!written) await outFile?.discard();
  }
}

/**
 * The audit trail's word that the certificate did not reach its --out file. A store that refuses
 * it now does not hide the error the supervisor must act on: the PEM printed, and the serial.
 */
function notSaved(
  ledger: SupervisedLedger,
  issued: { serialNumber: string; registrationId: string },
  reason: string,
): void {
  try {
    ledger.notSaved(issued, reason);
  } catch (err) {
    console.error(`station ca issue: the audit trail does not say so: ${(err as Error).message}`);
  }
}

/** A CSR is a few kilobytes: anything far larger is not one (and /dev/zero never ends). */
const MAX_CSR_BYTES = 1024 * 1024;

/** The --csr FILE that cannot be read: a stable code, and the flag and file named. */
export class CaIssueCsrError extends Error {
  readonly code = 'CA_ISSUE_CSR_UNREADABLE';

  constructor(
    readonly file: string,
    finding: string,
    options?: { cause?: unknown },
  ) {
    super(
      `--csr ${file}: ${finding}. Check the path of the certificate signing request (PEM or DER), then issue again; nothing was issued.`,
      options,
    );
    this.name = 'CaIssueCsrError';
  }
}

/** The bytes of --csr FILE, or CA_ISSUE_CSR_UNREADABLE saying why not (as `ca import` does). */
async function readCsr(typed: string): Promise<Buffer> {
  const read = await readBoundedInputFile(typed, MAX_CSR_BYTES, 'a CSR');
  if ('bytes' in read) return Buffer.from(read.bytes);
  throw new CaIssueCsrError(
    read.file,
    read.finding,
    read.cause === undefined ? {} : { cause: read.cause },
  );
}

/** Accepts a CSR file in DER or PEM. */
function derOrPem(bytes: Buffer): Uint8Array {
  const text = bytes.toString('latin1');
  const match = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END/.exec(text);
  return match ? Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64') : bytes;
}
