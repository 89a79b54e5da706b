import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ca } from './caCommand.js';
import {
  auditEvents,
  csrFile,
  issueByHand,
  opensslFingerprint,
  PASSPHRASE,
  useCaStation,
  work,
} from './testing/caStation.js';

const station = useCaStation();

describe('station ca issue', () => {
  it('records the certificate issued by hand in the audit trail: who, which, never a secret', async () => {
    const { out, serial } = await issueByHand();
    // The chain the command wrote verifies with openssl: leaf, then issuing CA, then root.
    const blocks = readFileSync(out, 'utf8').match(
      /-----BEGIN[\s\S]+?-----END CERTIFICATE-----\n/g,
    )!;
    writeFileSync(join(station.dataDir, 'leaf.pem'), blocks[0]!);
    writeFileSync(join(station.dataDir, 'issuing.pem'), blocks[1]!);
    writeFileSync(join(station.dataDir, 'root.pem'), blocks[2]!);
    const verified = execFileSync(
      'openssl',
      ['verify', '-CAfile', 'root.pem', '-untrusted', 'issuing.pem', 'leaf.pem'],
      { cwd: station.dataDir, encoding: 'utf8' },
    );
    expect(verified.trim()).toBe('leaf.pem: OK');

    const [event, ...more] = await auditEvents('certificate.issued-by-hand');
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      actor: 'supervisor:sam',
      subject: 'dev-1',
      detail: {
        serialNumber: serial,
        fingerprintSha256: opensslFingerprint(join(station.dataDir, 'leaf.pem')),
        csrFile,
        outFile: out,
      },
    });
    expect(JSON.stringify(event)).not.toContain(PASSPHRASE);
    expect(JSON.stringify(event)).not.toContain(
      readFileSync(join(work, 'dev.key'), 'utf8').split('\n')[1],
    );
  });

  it('refuses an --id DPS would refuse, naming the flag, before the passphrase and the ledger', async () => {
    vi.unstubAllEnvs(); // a passphrase asked for would fail the command another way
    expect(
      await ca(['issue', '--csr', csrFile, '--id', 'Rework_002', '--data-dir', station.dataDir]),
    ).toBe(2);
    expect(station.output.join('\n')).toMatch(
      /^station ca issue: --id "Rework_002" may hold only lower-case/m,
    );
    expect(station.output.join('\n')).not.toMatch(/profile template/);
    expect(await auditEvents('certificate.issued-by-hand')).toEqual([]);
  });

  it('without --by records the operating-system user, as the bundle commands do', async () => {
    await issueByHand([]);
    const [event] = await auditEvents('certificate.issued-by-hand');
    expect(event?.actor).toBe(`supervisor:${userInfo().username}`);
    await expect(
      ca(['issue', '--csr', csrFile, '--id', 'dev-1', '--by', ' ', '--data-dir', station.dataDir]),
    ).rejects.toMatchObject({ code: 'CLI_USAGE' });
  });

  /** What `ca list` says, for the certificates the ledger holds. */
  async function listed(): Promise<string> {
    const before = station.output.length;
    expect(await ca(['list', '--data-dir', station.dataDir])).toBe(0);
    return station.output.splice(before).join('\n');
  }

  // Issued and recorded, then EISDIR: `ca list` showed the serial issued, the PEM was nowhere.
  it('refuses an --out it cannot write before the passphrase, issuing nothing', async () => {
    const there = join(station.dataDir, 'there.pem');
    writeFileSync(there, 'an earlier certificate\n');
    const refusals = [
      [station.dataDir, /that is a folder; give a file name/],
      [there, /a file of that name is there already.* or add --force to replace it/],
      [join(station.dataDir, 'no-such-folder', 'dev-1.pem'), /cannot be written there \(ENOENT\)/],
    ] as const;
    for (const [out, said] of refusals) {
      const args = ['issue', '--csr', csrFile, '--id', 'dev-1', '--out', out];
      await expect(ca([...args, '--data-dir', station.dataDir])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: expect.stringMatching(said) as string,
      });
    }
    expect(readFileSync(there, 'utf8')).toBe('an earlier certificate\n');
    expect(await listed()).toContain('No certificates issued yet.');
    expect(await auditEvents('certificate.issued-by-hand')).toEqual([]);
  });

  it('replaces a file with --force, and leaves it as it was when the passphrase is wrong', async () => {
    const there = join(station.dataDir, 'dev-1.pem');
    writeFileSync(there, 'an earlier certificate\n');
    const args = ['issue', '--csr', csrFile, '--id', 'dev-1', '--out', there, '--force'];
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'not the station passphrase');
    await expect(ca([...args, '--data-dir', station.dataDir])).rejects.toMatchObject({
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
    expect(readFileSync(there, 'utf8')).toBe('an earlier certificate\n');
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    const before = statSync(there).ino;
    expect(await ca([...args, '--data-dir', station.dataDir])).toBe(0);
    expect(readFileSync(there, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----\n$/);
    // A new file renamed over the earlier one, not the earlier one emptied and written again: a
    // full disk or a kill in between leaves that one whole.
    expect(statSync(there).ino).not.toBe(before);
  });

  // A write that fails once the certificate is in the ledger: /dev/full takes the open, not the data.
  it.skipIf(!existsSync('/dev/full'))(
    'prints the certificate and names its serial when --out fails after issuing',
    async () => {
      const printed: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
        printed.push(String(text));
        return true;
      });
      const args = ['issue', '--csr', csrFile, '--id', 'dev-1', '--out', '/dev/full', '--force'];
      const failed = (await ca([...args, '--data-dir', station.dataDir]).catch(
        (err: unknown) => err,
      )) as {
        code?: string;
        message: string;
      };
      expect(failed.code).toBe('CA_ISSUED_NOT_SAVED');
      const serial = /^\S+ +issued/m.exec(await listed())![0].split(' ')[0]!;
      expect(failed.message).toContain(`certificate ${serial} for dev-1 is issued`);
      expect(failed.message).toContain(`station ca revoke ${serial} --reason`);
      expect(printed.join('')).toMatch(/^(-----BEGIN CERTIFICATE-----\n[\s\S]+?\n){3}$/);
      // The issue event names the --out file; the event after it says the file never got it.
      const [issuedEvent] = await auditEvents('certificate.issued-by-hand');
      expect(issuedEvent!.detail).toMatchObject({ serialNumber: serial, outFile: '/dev/full' });
      const [notSavedEvent, ...more] = await auditEvents('certificate.not-saved');
      expect(more).toEqual([]);
      expect(notSavedEvent).toMatchObject({
        subject: 'dev-1',
        detail: { serialNumber: serial, outFile: '/dev/full', printedInstead: true },
      });
      expect(notSavedEvent!.id).toBeGreaterThan(issuedEvent!.id);
    },
  );
});

describe('station ca init', () => {
  // `ca init` wrote no audit event: the trail could not say who made the station's CA.
  it('records who made which CA (subject, fingerprints), making the store it goes in', async () => {
    const fresh = mkdtempSync(join(work, 'fresh-'));
    expect(await ca(['init', '--name', 'Line 7', '--by', 'kim', '--data-dir', fresh])).toBe(0);
    const record = JSON.parse(readFileSync(join(fresh, 'ca', 'ca.json'), 'utf8')) as {
      issuingCertificatePem: string;
      chainPems: string[];
    };
    writeFileSync(join(fresh, 'issuing.pem'), record.issuingCertificatePem);
    writeFileSync(join(fresh, 'root.pem'), record.chainPems.at(-1)!);
    station.dataDir = fresh;
    const [event, ...more] = await auditEvents('ca.initialised');
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      actor: 'supervisor:kim',
      subject: 'ca',
      detail: {
        mode: 'station-root',
        keyAlgorithm: 'P-256',
        subject: 'CN=Line 7 Issuing CA',
        fingerprintSha256: opensslFingerprint(join(fresh, 'issuing.pem')),
        rootSubject: 'CN=Line 7 Root CA',
        rootFingerprintSha256: opensslFingerprint(join(fresh, 'root.pem')),
        caDir: join(fresh, 'ca'),
      },
    });
    expect(JSON.stringify(event)).not.toContain(PASSPHRASE);
  });

  it('refuses a second CA before any passphrase, recording nothing and making no store', async () => {
    await expect(ca(['init', '--data-dir', station.dataDir])).rejects.toMatchObject({
      code: 'CA_ALREADY_INITIALISED',
    });
    expect(existsSync(join(station.dataDir, 'station.db'))).toBe(false);
  });

  // Refused by initStationCa only after the passphrase, typed twice, and a station.db with no CA.
  it('refuses a --name outside 1 to 50 characters before any passphrase or store', async () => {
    // No passphrase anywhere: one asked for would fail the command another way (PASSPHRASE_MISSING).
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    const noInput = new PassThrough().end();
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(noInput as unknown as typeof process.stdin);
    const fresh = mkdtempSync(join(work, 'named-'));
    for (const name of [' ', 'L'.repeat(51)]) {
      await expect(ca(['init', '--name', name, '--data-dir', fresh])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: expect.stringMatching(/^--name must be 1 to 50 characters/) as string,
      });
    }
    expect(existsSync(join(fresh, 'station.db'))).toBe(false);
    expect(existsSync(join(fresh, 'ca'))).toBe(false);
  });
});

describe('station ca, an option its subcommand does not take', () => {
  // `ca init --cert F --key K` (meant: import) made a new self-rooted CA, after which the import
  // meant was refused as "a CA is there already".
  it('refuses the import files given to init, pointing to ca import, before any passphrase or store', async () => {
    // No passphrase anywhere: one asked for would fail the command another way (PASSPHRASE_MISSING).
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    const noInput = new PassThrough().end();
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(noInput as unknown as typeof process.stdin);
    const fresh = mkdtempSync(join(work, 'meant-import-'));
    for (const [flags, stray] of [
      [['--cert', join(work, 'issuing.pem'), '--key', join(work, 'dev.key')], 'cert'],
      [['--pkcs12', join(work, 'issuing.p12')], 'pkcs12'],
      [['--name', 'Line 7', '--chain', join(work, 'chain.pem')], 'chain'],
    ] as const) {
      await expect(ca(['init', ...flags, '--data-dir', fresh])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: `station ca init: --${stray} is not one of its options (init makes a new CA of this station's own; to use an issuing CA from the company PKI run \`station ca import\`)`,
      });
    }
    expect(existsSync(join(fresh, 'ca'))).toBe(false);
    expect(existsSync(join(fresh, 'station.db'))).toBe(false);
    expect(noInput.readableEnded).toBe(false);
  });

  it("refuses another subcommand's option on every subcommand", async () => {
    for (const [args, stray] of [
      [['list', '--reason', 'typo'], 'reason'],
      [['status', '--id', 'dev-1'], 'id'],
      [['revoke', 'abcdef', '--reason', 'typo', '--limit', '1'], 'limit'],
      [['import', '--cert', 'c.pem', '--key', 'k.pem', '--name', 'Line 7'], 'name'],
      [['issue', '--csr', csrFile, '--id', 'dev-1', '--algorithm', 'P-384'], 'algorithm'],
    ] as const) {
      await expect(ca([...args, '--data-dir', station.dataDir])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: `station ca ${args[0]}: --${stray} is not one of its options`,
      });
    }
    expect(existsSync(join(station.dataDir, 'station.db'))).toBe(false);
    expect(station.output).toEqual([]);
  });
});

describe('station ca list', () => {
  it('refuses a negative --limit in its own words, not as an ambiguous option', async () => {
    // node:util parseArgs reads "-1" as an option of its own: the flag's check must still answer.
    for (const args of [['--limit', '-1'], ['--limit=-1']]) {
      await expect(ca(['list', ...args, '--data-dir', station.dataDir])).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: '--limit must be a whole number of at least 1, not "-1"',
      });
    }
  });
});
