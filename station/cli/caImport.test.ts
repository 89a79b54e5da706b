import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpensslPki } from '../../certs/ca/testing/opensslPki.js';
import { AuditLog } from '../store/auditLog.js';
import { openStationDatabaseToRead } from '../store/stationDatabase.js';

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'station', 'cli.ts');
const work = mkdtempSync(join(tmpdir(), 'cli-ca-import-'));
const pki = new OpensslPki(mkdtempSync(join(work, 'pki-')));
let stations = 0;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  pki.selfSigned('root', 'P-256', 'root', 'Customer Root');
  pki.issue('iss', 'P-256', 'root', 'intermediate', 'Customer Issuing CA');
  pki.key('other', 'P-256');
  pki.run(
    'pkcs8',
    '-topk8',
    '-in',
    'iss.key',
    '-v2',
    'aes-256-cbc',
    '-passout',
    'pass:key pass',
    '-out',
    'iss.enc.key',
  );
  pki.pkcs12('iss', 'iss', [], 'p12 pass');
  // The supervisor's damaged copies: one base64 character made '#', the file cut short, and the
  // key's curve OID changed (openssl still reads that certificate, not its key).
  const lines = pki.text('iss.pem').split('\n');
  lines[2] = `#${lines[2]!.slice(1)}`;
  writeFileSync(pki.path('hash.pem'), lines.join('\n'));
  writeFileSync(pki.path('cut.pem'), pki.text('iss.pem').slice(0, 300));
  pki.unknownCurve('iss', 'curve');
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  dataDir: string;
}

/**
 * Runs `station ca import …` in a fresh data folder, with `input` piped as its standard input
 * (one line per secret) and no secret in the environment: a prompt that comes before the files
 * are checked would end with "no … on standard input" instead of the file's own refusal.
 */
function caImport(args: string[], input = ''): Promise<Result> {
  const dataDir = join(work, `station-${++stations}`);
  const env: NodeJS.ProcessEnv = { ...process.env, LINE_STATION_DATA: dataDir };
  delete env['LINE_STATION_CA_PASSPHRASE'];
  delete env['LINE_STATION_IMPORT_PASSWORD'];
  delete env['CREDENTIALS_DIRECTORY'];
  const files = args.map((arg) => (arg.startsWith('--') ? arg : pki.path(arg)));
  const child = spawn(TSX, [CLI, 'ca', 'import', ...files], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, dataDir })),
  );
}

describe('station ca import checks the files before it asks for any secret', () => {
  it('names the file and what it holds, with a stable code, and asks for nothing', async () => {
    const [pemAsPkcs12, certAsKey, keyAsChain] = await Promise.all([
      caImport(['--pkcs12', 'iss.pem']),
      caImport(['--cert', 'iss.pem', '--key', 'iss.pem']),
      caImport(['--cert', 'iss.pem', '--key', 'iss.key', '--chain', 'other.key']),
    ]);
    expect(pemAsPkcs12.stderr).toContain(
      `${pki.path('iss.pem')}: a PEM certificate (CN=Customer Issuing CA), not a PKCS#12 file.`,
    );
    expect(pemAsPkcs12.stderr).toContain('--cert FILE --key FILE');
    expect(pemAsPkcs12.stderr).toContain('[CA_IMPORT_NOT_PKCS12]');
    expect(certAsKey.stderr).toContain(`${pki.path('iss.pem')}: a PEM certificate`);
    expect(certAsKey.stderr).toContain('[CA_IMPORT_NO_PRIVATE_KEY]');
    expect(keyAsChain.stderr).toContain(`${pki.path('other.key')}: a PEM private key`);
    expect(keyAsChain.stderr).toContain('no certificate in the chain file');
    expect(keyAsChain.stderr).toContain('[CA_IMPORT_CHAIN_EMPTY]');
    for (const result of [pemAsPkcs12, certAsKey, keyAsChain]) {
      expect(result.stderr).not.toContain('standard input');
      expect(result.code).toBe(1);
      expect(existsSync(join(result.dataDir, 'ca', 'ca.json'))).toBe(false);
    }
  }, 60_000);

  it('calls a damaged certificate file damaged, naming it and what to do, before any secret', async () => {
    // Was "a PEM certificate, no PEM certificate … check that --cert and --key are not swapped"
    // [CA_IMPORT_NO_CERTIFICATE], or OpenSSL's bare "decode error" with no file and no CA_ code.
    const results = await Promise.all(
      ['hash.pem', 'cut.pem', 'curve.pem'].map((file) =>
        caImport(['--cert', file, '--key', 'iss.key', '--chain', 'root.pem']),
      ),
    );
    results.forEach((result, index) => {
      const file = pki.path(['hash.pem', 'cut.pem', 'curve.pem'][index]!);
      expect(result.stderr).toContain(`station: ${file}: PEM certificate armour, but `);
      expect(result.stderr).toContain(
        "The file is damaged: it was changed or cut short on its way here. Get a fresh copy from the CA's owner",
      );
      expect(result.stderr).toContain('[CA_IMPORT_CERTIFICATE_DAMAGED]');
      expect(result.stderr).not.toMatch(/no PEM certificate|swapped|ERR_OSSL/);
      expect(result.stderr).not.toContain('standard input');
      expect(result.code).toBe(1);
      expect(existsSync(join(result.dataDir, 'ca', 'ca.json'))).toBe(false);
    });
    expect(results[2]!.stderr).toContain('the public key of certificate block 1');
  }, 60_000);

  it('refuses a key that is not the certificate’s, and a wrong PKCS#12 password, before the new passphrase', async () => {
    const [mismatch, wrongPassword] = await Promise.all([
      caImport(['--cert', 'iss.pem', '--key', 'other.key', '--chain', 'root.pem']),
      caImport(['--pkcs12', 'iss.p12', '--chain', 'root.pem'], 'not the password\n'),
    ]);
    expect(mismatch.stderr).toContain('[CA_KEY_MISMATCH]');
    expect(wrongPassword.stderr).toContain('[CA_IMPORT_UNREADABLE]');
    for (const result of [mismatch, wrongPassword]) {
      expect(result.stderr).not.toContain('new CA passphrase');
      expect(result.code).toBe(1);
    }
  }, 60_000);

  it('reads piped secrets in the order its --help gives: file password, then new passphrase', async () => {
    const [fromPkcs12, fromEncryptedKey] = await Promise.all([
      caImport(['--pkcs12', 'iss.p12', '--chain', 'root.pem'], 'p12 pass\nnew station pass\n'),
      caImport(
        ['--cert', 'iss.pem', '--key', 'iss.enc.key', '--chain', 'root.pem'],
        'key pass\nnew station pass\n',
      ),
    ]);
    const help = await caImport(['--help']);
    expect(help.stdout).toMatch(
      /files\s+are checked first; then it asks, one line each on\s+a pipe, in this order: the PKCS#12 password/,
    );
    expect(help.stdout).toMatch(/then the new\s+CA passphrase/);
    for (const result of [fromPkcs12, fromEncryptedKey]) {
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('Issuing CA imported');
      expect(result.code).toBe(0);
    }
  }, 60_000);
});

describe('station ca import records itself in the audit trail', () => {
  // `ca import` wrote no audit event: who put the company's issuing CA on the line, and which one.
  it('names the supervisor, the CA by subject and fingerprint, and the files; never a password', async () => {
    const result = await caImport(
      ['--pkcs12', 'iss.p12', '--chain', 'root.pem', '--by=kim'],
      'p12 pass\nnew station pass\n',
    );
    expect(result.code).toBe(0);
    const db = openStationDatabaseToRead(join(result.dataDir, 'station.db'));
    let events;
    let everything: string;
    try {
      events = new AuditLog(db).list('ca.imported');
      everything = JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
    } finally {
      db.close();
    }
    const fingerprint = (file: string) =>
      pki
        .run('x509', '-in', file, '-noout', '-fingerprint', '-sha256')
        .split('=')[1]!
        .trim()
        .replaceAll(':', '')
        .toLowerCase();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'supervisor:kim',
      subject: 'ca',
      detail: {
        mode: 'imported',
        subject: 'CN=Customer Issuing CA',
        fingerprintSha256: fingerprint('iss.pem'),
        rootSubject: 'CN=Customer Root',
        rootFingerprintSha256: fingerprint('root.pem'),
        pkcs12File: pki.path('iss.p12'),
        chainFile: pki.path('root.pem'),
      },
    });
    expect(everything).not.toContain('p12 pass');
    expect(everything).not.toContain('new station pass');
  }, 60_000);
});
