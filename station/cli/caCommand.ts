import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { importIssuingCa } from '../../certs/ca/importIssuingCa.js';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { openCa, type CaStatus } from '../../certs/ca/openCa.js';
import { certificateToPem } from '../../certs/ca/pemCertificates.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { StationCa } from '../../certs/stationCa.js';
import { CertificateLedger } from '../store/certificateLedger.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { resolveDataDir, stationPaths } from './dataDir.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { readPassphrase } from './passphrase.js';
import { countFlag, UsageError } from './usageError.js';

export const CA_USAGE = `  ca init    [--name NAME] [--algorithm P-256|P-384]
                                                 create a root and a station issuing CA
  ca import  --pkcs12 FILE | --cert FILE --key FILE [--chain FILE]
                                                 use an issuing CA from the company PKI
  ca status                                      show the CA (no secrets)
  ca issue   --csr FILE --id REGISTRATION_ID [--out FILE]
                                                 issue a leaf for a CSR (PEM, leaf then chain)
  ca list    [--id REGISTRATION_ID] [--limit N]  list issued certificates
  ca revoke  SERIAL --reason TEXT                mark an issued certificate revoked
          every ca command takes --data-dir DIR (default $LINE_STATION_DATA or ~/.line-station);
          the CA passphrase comes from LINE_STATION_CA_PASSPHRASE, the terminal, or stdin`;

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
  limit: { type: 'string', default: '50' },
  reason: { type: 'string' },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>['values'];

/** `station ca …`: the supervisor's CA commands. */
export async function ca(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const parsed = parseArgs({ args: rest, options, allowPositionals: true });
  // Only `revoke` takes a word of its own (the serial): anywhere else a stray word is an
  // unquoted value (`--name Line 7` would name the CA "Line" and drop the 7).
  const extra = sub === 'revoke' ? parsed.positionals.slice(1) : parsed.positionals;
  if (extra.length > 0) {
    throw new UsageError(
      `station ca ${sub ?? ''}: unexpected "${extra.join(' ')}" (quote a value that has spaces)`,
    );
  }
  if (sub === 'list') countFlag('--limit', parsed.values.limit);
  const paths = stationPaths(resolveDataDir(parsed.values['data-dir']));
  switch (sub) {
    case 'init':
      return init(paths.caDir, parsed.values);
    case 'import':
      return importCa(paths.caDir, parsed.values);
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

async function init(caDir: string, values: Values): Promise<number> {
  if (values.algorithm !== 'P-256' && values.algorithm !== 'P-384') {
    console.error('station ca init: --algorithm must be P-256 or P-384');
    return 2;
  }
  const passphrase = await readPassphrase('New CA passphrase: ', { confirm: true });
  const record = await initStationCa(caDir, {
    name: values.name,
    keyAlgorithm: values.algorithm,
    wrapper: new PassphraseKeyWrapper(passphrase),
  });
  console.log(`CA created in ${caDir} (${record.mode}, ${values.algorithm}).`);
  console.log('The root key is sealed beside the issuing key and is never loaded on the line.');
  console.log('Keep the passphrase safe: without it the CA cannot be unlocked.');
  return 0;
}

async function importCa(caDir: string, values: Values): Promise<number> {
  const fromPkcs12 = values.pkcs12 !== undefined;
  if (fromPkcs12 === (values.cert !== undefined)) {
    console.error('station ca import: give either --pkcs12 FILE, or --cert FILE with --key FILE');
    return 2;
  }
  if (!fromPkcs12 && values.key === undefined) {
    console.error('station ca import: --cert needs --key FILE (the issuing CA private key, PEM)');
    return 2;
  }
  const material = fromPkcs12
    ? {
        pkcs12: await readFile(values.pkcs12!),
        pkcs12Password: await readPassphrase('PKCS#12 password: ', {
          env: 'LINE_STATION_IMPORT_PASSWORD',
        }),
      }
    : {
        certificatePem: await readFile(values.cert!, 'utf8'),
        privateKeyPem: await readFile(values.key!, 'utf8'),
        ...(values.chain ? { chainPem: await readFile(values.chain, 'utf8') } : {}),
      };
  const keyPassphrase =
    'privateKeyPem' in material && material.privateKeyPem.includes('ENCRYPTED')
      ? {
          privateKeyPassphrase: await readPassphrase('Key file passphrase: ', {
            env: 'LINE_STATION_IMPORT_PASSWORD',
          }),
        }
      : {};
  const passphrase = await readPassphrase('New CA passphrase for this station: ', {
    confirm: true,
  });
  const record = await importIssuingCa(caDir, {
    ...material,
    ...keyPassphrase,
    wrapper: new PassphraseKeyWrapper(passphrase),
  });
  console.log(`Issuing CA imported into ${caDir} (${record.mode}, ${record.keyAlgorithm}).`);
  return 0;
}

async function withCa(
  paths: ReturnType<typeof stationPaths>,
  sub: 'status' | 'issue' | 'list' | 'revoke',
  values: Values,
  positionals: string[],
): Promise<number> {
  // The CA first, and `status` needs nothing else: a folder with no CA (a mistyped --data-dir, a
  // forgotten LINE_STATION_DATA) is refused before the database is opened, which would make a
  // station.db there, and `queue stats` would then read that folder as a station with an empty
  // outbox. `list` only reads (openExistingStationDatabase makes nothing); issue and revoke write.
  const locked = await openCa(paths.caDir);
  if (sub === 'status') return printStatus(locked.status(), paths.caDir);
  const db =
    sub === 'list'
      ? openExistingStationDatabase(paths.dataDir, { toRead: true })
      : openStationDatabase(paths.database);
  try {
    const stationCa = new StationCa(locked, new CertificateLedger(db));
    if (sub === 'list') return list(stationCa, values);
    if (sub === 'revoke') {
      const serial = positionals[0];
      if (!serial || !values.reason) {
        console.error('station ca revoke: give SERIAL and --reason TEXT');
        return 2;
      }
      await stationCa.revoke(serial, values.reason);
      console.log(`Certificate ${serial} marked revoked.`);
      return 0;
    }
    if (!values.csr || !values.id) {
      console.error('station ca issue: give --csr FILE and --id REGISTRATION_ID');
      return 2;
    }
    const csr = await readFile(values.csr);
    await stationCa.unlock(new PassphraseKeyWrapper(await readPassphrase('CA passphrase: ')));
    const issued = await stationCa.issueFromCsr(derOrPem(csr), { registrationId: values.id });
    const pem = [issued.certificateDer, ...issued.chainDer].map(certificateToPem).join('');
    if (values.out) await writeFile(values.out, pem);
    else process.stdout.write(pem);
    console.error(
      `Issued ${issued.serialNumber} for ${issued.registrationId}, valid to ${issued.notAfter.toISOString()}.`,
    );
    stationCa.lock();
    return 0;
  } finally {
    db.close();
  }
}

function printStatus(status: CaStatus, caDir: string): number {
  console.log(`folder        ${caDir}`);
  console.log(`mode          ${status.mode}`);
  console.log(`subject       ${status.subject}`);
  console.log(`issuer        ${status.issuer}`);
  console.log(`key           ${status.keyAlgorithm}, sealed by ${status.unlockWith}`);
  console.log(`valid until   ${status.notAfter.toISOString()} (${status.daysLeft} days left)`);
  console.log(`created       ${status.createdAt.toISOString()}`);
  if (status.daysLeft < 60) console.log('note: the CA expires soon; plan its renewal now.');
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
      `${r.serialNumber.padEnd(32)}  ${r.status.padEnd(9)}  ${r.registrationId.padEnd(31)}  ${r.notAfter}`,
    );
  }
  return 0;
}

/** Accepts a CSR file in DER or PEM. */
function derOrPem(bytes: Buffer): Uint8Array {
  const text = bytes.toString('latin1');
  const match = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END/.exec(text);
  return match ? Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64') : bytes;
}
