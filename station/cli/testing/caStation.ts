/**
 * A station folder with a CA for each test of the `ca` command, its console captured, and what
 * those tests read back: the audit trail, openssl's fingerprints, a certificate issued by hand.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, vi } from 'vitest';
import { initStationCa } from '../../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import type { AuditEvent } from '../../store/auditLog.js';
import { audit } from '../auditCommand.js';
import { ca } from '../caCommand.js';

export const PASSPHRASE = 'the station passphrase';
/** This test file's scratch folder, removed after it. */
export const work = mkdtempSync(join(tmpdir(), 'ca-command-'));

/** A device key and its CSR, made by openssl as a device's tooling would. */
export const csrFile = join(work, 'dev.csr');

/** The test under way: its station folder, and what the commands printed there. */
export const station = { dataDir: '', output: [] as string[] };

/** A fresh station folder with a CA before each test, the console captured, the passphrase set. */
export function useCaStation(): typeof station {
  execFileSync('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(work, 'dev.key'),
    '-subj',
    '/CN=dev-1',
    '-out',
    csrFile,
  ]);
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  beforeEach(async () => {
    station.dataDir = mkdtempSync(join(work, 'station-'));
    // Cheap scrypt: these tests are about the audit trail and the text, not the passphrase's cost.
    await initStationCa(join(station.dataDir, 'ca'), {
      name: 'CA command test',
      wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
    });
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    station.output = [];
    const keep = (line: string): void => void station.output.push(line);
    vi.spyOn(console, 'log').mockImplementation(keep);
    vi.spyOn(console, 'error').mockImplementation(keep);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  return station;
}

/** The audit events of one kind, read back through `station audit --json`. */
export async function auditEvents(kind: string): Promise<AuditEvent[]> {
  const before = station.output.length;
  expect(await audit(['--kind', kind, '--json', '--data-dir', station.dataDir])).toBe(0);
  const printed = station.output.splice(before).join('\n');
  return printed.startsWith('[') ? (JSON.parse(printed) as AuditEvent[]) : [];
}

/** The SHA-256 fingerprint openssl computes, in the ledger's form (lower-case hex). */
export function opensslFingerprint(pemFile: string): string {
  const line = execFileSync(
    'openssl',
    ['x509', '-in', pemFile, '-noout', '-fingerprint', '-sha256'],
    {
      encoding: 'utf8',
    },
  );
  return line.split('=')[1]!.trim().replaceAll(':', '').toLowerCase();
}

/** `ca issue` of the CSR for dev-1 into the station folder, by `by`: the file and the serial. */
export async function issueByHand(
  by: string[] = ['--by', 'sam'],
): Promise<{ out: string; serial: string }> {
  const out = join(station.dataDir, 'dev-1.pem');
  const args = ['issue', '--csr', csrFile, '--id', 'dev-1', '--out', out, ...by];
  expect(await ca([...args, '--data-dir', station.dataDir])).toBe(0);
  const serial = /Issued ([0-9a-f]+) for dev-1/.exec(station.output.join('\n'))![1]!;
  return { out, serial };
}
