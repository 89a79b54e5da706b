import { resolve } from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import { assertNoCa } from '../../certs/ca/caStore.js';
import type { CaRecord } from '../../certs/ca/caRecord.js';
import { readImportFiles } from '../../certs/ca/importFiles.js';
import { prepareIssuingCa, writeImportedCa } from '../../certs/ca/importIssuingCa.js';
import { CA_NAME_MAX_LENGTH, initStationCa } from '../../certs/ca/initStationCa.js';
import { openCa, type CaStatus } from '../../certs/ca/openCa.js';
import { certificatesFromPem } from '../../certs/ca/pemCertificates.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../certs/stationCa.js';
import type { AuditActor } from '../store/auditLog.js';
import { auditedChange } from '../store/auditedChange.js';
import { CertificateLedger } from '../store/certificateLedger.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { SupervisedLedger } from '../store/supervisedLedger.js';
import {
  certificateAsksOf,
  certificateCutNote,
  importCutWarning,
  type KnownAsks,
} from '../production/certificateLifetimeNote.js';
import { issue } from './caIssue.js';
import { revocationLines } from './caRevokeText.js';
import { parseStationArgs, strayWordsText } from './stationArgs.js';
import { refuseOtherOptions } from './subcommandOptions.js';
import { supervisorActor } from './supervisorName.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { readPassphrase } from './passphrase.js';
import { countFlag, UsageError } from './usageError.js';
import { zonedLocalTime } from './timeFlags.js';

export const CA_USAGE = `  ca init    [--name NAME] [--algorithm P-256|P-384] [--by NAME]
                                                 create a root and a station issuing CA; NAME
                                                 (1 to 50 characters, default Line Station)
                                                 goes into their subjects
  ca import  --pkcs12 FILE [--chain FILE] | --cert FILE --key FILE [--chain FILE] [--by NAME]
                                                 use an issuing CA from the company PKI. The files
                                                 are checked first; then it asks, one line each on
                                                 a pipe, in this order: the PKCS#12 password (with
                                                 --pkcs12) or the key file passphrase (an encrypted
                                                 --key), from LINE_STATION_IMPORT_PASSWORD when
                                                 set; then the new CA passphrase (twice on a
                                                 terminal, once on a pipe)
  ca status                                      show the CA (no secrets)
  ca issue   --csr FILE --id REGISTRATION_ID [--out FILE [--force]] [--by NAME]
                                                 issue a leaf for a CSR (PEM, leaf then chain)
                                                 to standard output, or into FILE, which must
                                                 not exist unless --force (then it is replaced);
                                                 FILE is checked before the passphrase
  ca list    [--id REGISTRATION_ID] [--limit N]  list issued certificates
  ca revoke  SERIAL --reason TEXT [--by NAME]    mark an issued certificate revoked: its
                                                 enrollment is never sent to DPS, or the sync
                                                 disables it there (no CRL is published, no
                                                 IoT hub is changed)
          every ca command takes --data-dir DIR (default $LINE_STATION_DATA or ~/.line-station);
          the CA passphrase comes from LINE_STATION_CA_PASSPHRASE, the terminal, or stdin;
          init, import, issue and revoke go into the audit trail by --by NAME, else this OS
          user's name (init and import make the station database for it if none is there),
          and so does a wrong CA passphrase typed at issue (ca.passphrase-refused)`;

const options = {
  'data-dir': { type: 'string' },
  name: { type: 'string', default: 'Line Station' },
  algorithm: { type: 'string', default: 'P-256' },
  key: { type: 'string' },
  pkcs12: { type: 'string' },
  cert: { type: 'string' },
  chain: { type: 'string' },
  csr: { type: 'string' },
  id: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  limit: { type: 'string', default: '50' },
  reason: { type: 'string' },
  by: { type: 'string' },
} as const;

type Values = ReturnType<
  typeof parseStationArgs<{ options: typeof options; allowPositionals: true }>
>['values'];

/**
 * Each subcommand's options: one given to another is refused, not ignored. `ca init --cert F
 * --key K` (meant: import) made a new self-rooted CA, after which the import was refused.
 */
const OPTIONS_OF: Record<string, readonly string[]> = {
  init: ['data-dir', 'name', 'algorithm', 'by'],
  import: ['data-dir', 'pkcs12', 'cert', 'key', 'chain', 'by'],
  status: ['data-dir'],
  issue: ['data-dir', 'csr', 'id', 'out', 'force', 'by'],
  list: ['data-dir', 'id', 'limit'],
  revoke: ['data-dir', 'reason', 'by'],
};

/** What a refused option of `sub` was most likely meant for. */
function optionHint(sub: string | undefined): (option: string) => string {
  return (option) =>
    sub === 'init' && OPTIONS_OF['import']!.includes(option)
      ? ` (init makes a new CA of this station's own; to use an issuing CA from the company PKI run \`station ca import\`)`
      : '';
}

/** `station ca …`: the supervisor's CA commands. */
export async function ca(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  // parseStationArgs: `--limit -1` reaches the flag's own check, not Node's "ambiguous".
  const parsed = parseStationArgs({ args: rest, options, allowPositionals: true, tokens: true });
  // Before anything else, a passphrase above all: the supervisor corrects the command and goes on.
  refuseOtherOptions('station ca', sub, OPTIONS_OF, parsed.tokens, optionHint(sub));
  // Only `revoke` takes a word of its own (the serial): anywhere else a stray word is an
  // unquoted value (`--name Line 7` would name the CA "Line" and drop the 7).
  const extra = sub === 'revoke' ? parsed.positionals.slice(1) : parsed.positionals;
  if (extra.length > 0) {
    throw new UsageError(
      `station ca ${sub ?? ''}: ${strayWordsText(extra.length)}; quote a value that has spaces`,
    );
  }
  if (sub === 'list') countFlag('--limit', parsed.values.limit);
  const paths = stationPaths(resolveDataDir(parsed.values['data-dir']));
  switch (sub) {
    case 'init':
      return init(paths, parsed.values);
    case 'import':
      return importCa(paths, parsed.values);
    case 'status':
    case 'issue':
    case 'list':
    case 'revoke':
      return withCa(paths, sub, parsed.values, parsed.positionals);
    default:
      console.error(`station ca: unknown subcommand "${sub ?? ''}"\n${CA_USAGE}`);
      return 2;
  }
}

async function init(paths: StationPaths, values: Values): Promise<number> {
  const { caDir } = paths;
  if (values.algorithm !== 'P-256' && values.algorithm !== 'P-384') {
    console.error('station ca init: --algorithm must be P-256 or P-384');
    return 2;
  }
  const nameLength = values.name.trim().length;
  if (nameLength === 0 || nameLength > CA_NAME_MAX_LENGTH) {
    throw new UsageError(
      `--name must be 1 to ${CA_NAME_MAX_LENGTH} characters, spaces around it aside (it has ${nameLength})`,
    );
  }
  const keyAlgorithm = values.algorithm;
  const actor = supervisorActor(values.by);
  // Refused before the passphrase is typed, and before a database is made for the audit event.
  await assertNoCa(caDir);
  const passphrase = await readPassphrase('New CA passphrase: ', { confirm: true });
  const record = await auditedChange(
    paths.database,
    () =>
      initStationCa(caDir, {
        name: values.name,
        keyAlgorithm,
        wrapper: new PassphraseKeyWrapper(passphrase),
      }),
    (made) => caEvent(actor, 'ca.initialised', made, { caDir }),
  );
  console.log(`CA created in ${caDir} (${record.mode}, ${values.algorithm}).`);
  console.log('The root key is sealed beside the issuing key and is never loaded on the line.');
  console.log('Keep the passphrase safe: without it the CA cannot be unlocked.');
  return 0;
}

async function importCa(paths: StationPaths, values: Values): Promise<number> {
  const { caDir } = paths;
  const fromPkcs12 = values.pkcs12 !== undefined;
  if (fromPkcs12 === (values.cert !== undefined) || (fromPkcs12 && values.key !== undefined)) {
    console.error('station ca import: give either --pkcs12 FILE, or --cert FILE with --key FILE');
    return 2;
  }
  if (!fromPkcs12 && values.key === undefined) {
    console.error('station ca import: --cert needs --key FILE (the issuing CA private key, PEM)');
    return 2;
  }
  // Everything that needs no secret comes first (a CA already there, files that hold something
  // else than their flag says), then the files' own passwords, then the whole CA is read and
  // validated, and only then is the new passphrase asked for: a wrong file costs no typing.
  const actor = supervisorActor(values.by);
  await assertNoCa(caDir);
  const files = await readImportFiles({
    ...(values.pkcs12 !== undefined && { pkcs12: values.pkcs12 }),
    ...(values.cert !== undefined && { certificate: values.cert }),
    ...(values.key !== undefined && { key: values.key }),
    ...(values.chain !== undefined && { chain: values.chain }),
  });
  const importPassword = (prompt: string): Promise<string> =>
    readPassphrase(prompt, { env: 'LINE_STATION_IMPORT_PASSWORD' });
  const prepared = prepareIssuingCa({
    ...(files.pkcs12 !== undefined && {
      pkcs12: files.pkcs12,
      pkcs12Password: await importPassword('PKCS#12 password: '),
    }),
    ...(files.certificatePem !== undefined && { certificatePem: files.certificatePem }),
    ...(files.privateKeyPem !== undefined && { privateKeyPem: files.privateKeyPem }),
    ...(files.keyEncrypted && {
      privateKeyPassphrase: await importPassword('Key file passphrase: '),
    }),
    ...(files.chainPem !== undefined && { chainPem: files.chainPem }),
  });
  // Before the new passphrase: a supervisor who did not mean a CA this short stops here.
  const asks = await certificateAsksOf(paths.dataDir);
  const cut = importCutWarning(prepared.issuesWithin, asks, prepared.now);
  if (cut !== undefined) console.error(`warning: ${cut}`);
  const passphrase = await readPassphrase('New CA passphrase for this station: ', {
    confirm: true,
  });
  const record = await auditedChange(
    paths.database,
    () => writeImportedCa(caDir, prepared, new PassphraseKeyWrapper(passphrase)),
    (imported) =>
      caEvent(actor, 'ca.imported', imported, {
        caDir,
        // Where it came from, by file name: the files' passwords are never recorded.
        ...(values.pkcs12 !== undefined && { pkcs12File: resolve(values.pkcs12) }),
        ...(values.cert !== undefined && { certificateFile: resolve(values.cert) }),
        ...(values.key !== undefined && { keyFile: resolve(values.key) }),
        ...(values.chain !== undefined && { chainFile: resolve(values.chain) }),
      }),
  );
  console.log(`Issuing CA imported into ${caDir} (${record.mode}, ${record.keyAlgorithm}).`);
  return 0;
}

/**
 * The audit event of a CA made or imported: which CA, by its subject and the SHA-256 of its
 * certificate (and of its root), never a key or a passphrase.
 */
function caEvent(
  actor: AuditActor,
  kind: 'ca.initialised' | 'ca.imported',
  record: CaRecord,
  context: Record<string, string>,
) {
  const facts = (pem: string) => {
    const der = certificatesFromPem(pem)[0]!;
    return {
      // One line, as `ca status` shows it (node gives one attribute per line).
      subject: new X509Certificate(der).subject.split('\n').join(', '),
      fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    };
  };
  const root = record.chainPems.at(-1);
  const rootFacts = root === undefined ? undefined : facts(root);
  return {
    actor,
    kind,
    subject: 'ca',
    detail: {
      mode: record.mode,
      keyAlgorithm: record.keyAlgorithm,
      ...facts(record.issuingCertificatePem),
      ...(rootFacts && {
        rootSubject: rootFacts.subject,
        rootFingerprintSha256: rootFacts.fingerprintSha256,
      }),
      chainLength: record.chainPems.length,
      ...context,
    },
  };
}

type StationPaths = ReturnType<typeof stationPaths>;

async function withCa(
  paths: StationPaths,
  sub: 'status' | 'issue' | 'list' | 'revoke',
  values: Values,
  positionals: string[],
): Promise<number> {
  // The CA first, and `status` needs nothing else: a folder with no CA (a mistyped --data-dir, a
  // forgotten LINE_STATION_DATA) is refused before the database is opened, which would make a
  // station.db there, and `queue stats` would then read that folder as a station with an empty
  // outbox. `list` only reads (openExistingStationDatabase makes nothing); issue and revoke write.
  const locked = await openCa(paths.caDir);
  if (sub === 'status') {
    return printStatus(locked.status(), paths.caDir, await certificateAsksOf(paths.dataDir));
  }
  if (sub === 'list') {
    const db = openExistingStationDatabase(paths.dataDir, { toRead: true });
    try {
      return await list(new StationCa(locked, new CertificateLedger(db)), values);
    } finally {
      db.close();
    }
  }
  if (sub === 'issue') return issue(locked, paths, values);
  const serial = positionals[0];
  if (!serial || !values.reason) {
    console.error('station ca revoke: give SERIAL and --reason TEXT');
    return 2;
  }
  const db = openStationDatabase(paths.database);
  try {
    const ledger = new SupervisedLedger(db, supervisorActor(values.by), {});
    const stationCa = new StationCa(locked, ledger);
    return await revoke(stationCa, ledger, serial, values.reason, paths.dataDir);
  } finally {
    db.close();
  }
}

async function revoke(
  stationCa: StationCa,
  ledger: SupervisedLedger,
  serial: string,
  reason: string,
  dataDir: string,
): Promise<number> {
  const before = ledger.get(serial.toLowerCase());
  if (before?.status === 'revoked') {
    console.error(
      `Certificate ${before.serialNumber} was revoked already, at ${before.revokedAt ? zonedLocalTime(before.revokedAt) : '?'} (${before.revocationReason ?? ''}); nothing changed.`,
    );
    return 1;
  }
  await stationCa.revoke(serial, reason);
  const id = before?.registrationId ?? '?';
  console.log(`Certificate ${serial} (${id}) marked revoked in this station's ledger.`);
  for (const line of revocationLines(ledger.revokedEnrollment, id, dataDir)) console.log(line);
  return 0;
}

function printStatus(status: CaStatus, caDir: string, known: KnownAsks): number {
  console.log(`folder        ${caDir}`);
  console.log(`mode          ${status.mode}`);
  console.log(`subject       ${status.subject}`);
  console.log(`issuer        ${status.issuer}`);
  console.log(`key           ${status.keyAlgorithm}, sealed by ${status.unlockWith}`);
  console.log(
    `valid until   ${zonedLocalTime(status.notAfter.toISOString())} (${status.daysLeft} days left)`,
  );
  console.log(`created       ${zonedLocalTime(status.createdAt.toISOString())}`);
  if (status.daysLeft < 60) console.log('note: the CA expires soon; plan its renewal now.');
  for (const ask of known.asks) {
    const cut = certificateCutNote(status, ask, new Date());
    if (cut !== undefined) console.log(`warning: ${cut}`);
  }
  return 0;
}

async function list(stationCa: StationCa, values: Values): Promise<number> {
  const limit = countFlag('--limit', values.limit);
  const rows = await stationCa.list({ ...(values.id ? { registrationId: values.id } : {}), limit });
  if (rows.length === 0) {
    console.log('No certificates issued yet.');
    return 0;
  }
  console.log(
    'serial                            status     registration ID                  not after',
  );
  for (const r of rows) {
    console.log(
      `${r.serialNumber.padEnd(32)}  ${r.status.padEnd(9)}  ${r.registrationId.padEnd(31)}  ${zonedLocalTime(r.notAfter)}`,
    );
  }
  return 0;
}
