import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { findNeedles, secretEncodings } from '../../certs/testing/secretNeedles.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { groupKeyFile, loadGroupKeySource, saveGroupKey } from '../production/groupKeys.js';
import { markServing } from '../sync/servingStation.js';
import { AuditLog } from '../store/auditLog.js';
import { openStationDatabaseToRead } from '../store/stationDatabase.js';
import { GROUP_KEY_FINGERPRINT_LABEL } from '../sync/groupKeyFingerprint.js';
import { reportCliError } from './cliError.js';
import { keys } from './keysCommand.js';

const PASSPHRASE = 'the station passphrase';
const KEY = randomBytes(32).toString('base64');
let dataDir: string;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keys-command-'));
  // Cheap scrypt: the test is about which passphrase seals, not about its cost.
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Keys test',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE, { scrypt: { N: 1024 } }),
  });
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.stubEnv('LINE_STATION_GROUP_KEY', KEY);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('station keys set-group', () => {
  it('seals the group key under the CA passphrase, and refuses one that does not open the CA', async () => {
    const setGroup = () => keys(['set-group', '--group', 'line3', '--data-dir', dataDir]);
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', `${PASSPHRASE}!`);
    await expect(setGroup()).rejects.toMatchObject({ code: 'CUSTODY_WRONG_PASSPHRASE' });
    expect(existsSync(groupKeyFile(dataDir, 'line3'))).toBe(false);
    // Nothing stored; the wrong passphrase is in the audit trail, and the key nowhere in it.
    const db = openStationDatabaseToRead(join(dataDir, 'station.db'));
    try {
      expect(new AuditLog(db).list()).toEqual([
        expect.objectContaining({
          kind: 'ca.passphrase-refused',
          detail: expect.objectContaining({ command: 'keys set-group' }),
        }),
      ]);
    } finally {
      db.close();
    }

    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    expect(await setGroup()).toBe(0);
    expect(readFileSync(groupKeyFile(dataDir, 'line3'), 'utf8')).not.toContain(KEY);
  });

  it('records who stored which key in the audit trail, by its fingerprint and never the key', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    const setGroup = ['set-group', '--group', 'Line3', '--by', 'sam', '--data-dir', dataDir];
    expect(await keys(setGroup)).toBe(0);
    expect(await keys(setGroup)).toBe(0);
    const db = openStationDatabaseToRead(join(dataDir, 'station.db'));
    let events;
    try {
      events = new AuditLog(db).list('group-key.stored');
    } finally {
      db.close();
    }
    const keyFingerprint = createHash('sha256')
      .update(GROUP_KEY_FINGERPRINT_LABEL)
      .update(Buffer.from(KEY, 'base64'))
      .digest('hex');
    // Never the key's plain SHA-256 (HMAC's stand-in for a long key), never the key.
    const plain = createHash('sha256').update(Buffer.from(KEY, 'base64')).digest('hex');
    expect(events).toMatchObject([
      {
        actor: 'supervisor:sam',
        subject: 'group:line3',
        detail: { replaced: true, keyFingerprint },
      },
      { detail: { enrollmentGroupId: 'Line3', replaced: false, keyFingerprint } },
    ]);
    const trail = JSON.stringify(events);
    expect(trail).not.toContain(KEY);
    expect(trail).not.toContain(plain);
    expect(trail).not.toContain(Buffer.from(KEY, 'base64').toString('hex'));
    expect(trail).not.toContain(PASSPHRASE);
  });
});

describe('station keys set-group, refused before any secret is asked for', () => {
  /** No key and no CA passphrase anywhere: a prompt would fail the command another way. */
  function nothingToRead(): PassThrough {
    vi.stubEnv('LINE_STATION_GROUP_KEY', '');
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    const noInput = new PassThrough().end();
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(noInput as unknown as typeof process.stdin);
    return noInput;
  }

  // Checked by saveGroupKey only after the key and the CA passphrase were typed: exit 1, uncoded.
  it('refuses a --group DPS would refuse, and an empty --data-dir, as usage errors', async () => {
    const noInput = nothingToRead();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const group of ['line 3', 'line3-', 'line3.', 'línea']) {
      const refused = await keys(['set-group', '--group', group, '--data-dir', dataDir]).catch(
        (err: unknown) => err,
      );
      expect(refused).toMatchObject({
        code: 'CLI_USAGE',
        message: `--group "${group}" is not a DPS enrollment group ID: letters, digits and - . _ :, starting and ending with a letter or digit`,
      });
      expect(reportCliError(refused)).toBe(2);
    }
    await expect(keys(['set-group', '--group', 'line3', '--data-dir', ' '])).rejects.toMatchObject({
      code: 'CLI_USAGE',
      message: expect.stringMatching(/^--data-dir/),
    });
    expect(noInput.readableEnded).toBe(false);
    expect(existsSync(join(dataDir, 'keys'))).toBe(false);
    expect(existsSync(join(dataDir, 'station.db'))).toBe(false);
  });

  it('refuses a key that is not base64 of 16 to 64 bytes, coded, before the CA passphrase', async () => {
    nothingToRead();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const key of ['not a key', randomBytes(8).toString('base64'), `${KEY}x`]) {
      vi.stubEnv('LINE_STATION_GROUP_KEY', key);
      const refused = await keys(['set-group', '--group', 'line3', '--data-dir', dataDir]).catch(
        (err: unknown) => err,
      );
      expect(refused).toMatchObject({
        code: 'KEYS_GROUP_KEY_INVALID',
        message: expect.stringContaining(
          'the group key must be base64 of 16 to 64 bytes',
        ) as string,
      });
      expect(JSON.stringify([(refused as Error).message, refused])).not.toContain(key);
      expect(reportCliError(refused)).toBe(1);
    }
    // No CA passphrase was asked for: none recorded as refused, no store made for it.
    expect(existsSync(join(dataDir, 'station.db'))).toBe(false);
    expect(existsSync(groupKeyFile(dataDir, 'line3'))).toBe(false);
  });
});

/** What the command printed, one string per console.log call. */
function printed(): string[] {
  return vi.mocked(console.log).mock.calls.map((call) => String(call[0]));
}

/** The group-key.stored events of the data folder, newest first. */
function storedEvents() {
  const db = openStationDatabaseToRead(join(dataDir, 'station.db'));
  try {
    return new AuditLog(db).list('group-key.stored');
  } finally {
    db.close();
  }
}

/** The key the station holds for `group` now, opened as a line opens it. */
async function heldKey(group: string): Promise<string> {
  const wrapper = new PassphraseKeyWrapper(PASSPHRASE);
  return Buffer.from(await loadGroupKeySource(dataDir, wrapper)(group)).toString('base64');
}

const short = (key: string) =>
  `${createHash('sha256').update(GROUP_KEY_FINGERPRINT_LABEL).update(Buffer.from(key, 'base64')).digest('hex').slice(0, 12)}…`;

describe('station keys set-group over a stored key', () => {
  // `--group Gadgets`, `--group gadgets`, then a third key: each wrote group-gadgets and said
  // only "is sealed in", so the third silently gave every later device a wrong derived key.
  it('says when it stores the same key again, and refuses a different one without --replace', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    const file = groupKeyFile(dataDir, 'gadgets');
    expect(await keys(['set-group', '--group', 'Gadgets', '--data-dir', dataDir])).toBe(0);
    expect(printed()).toEqual([
      `The key of group "gadgets" (group IDs are kept in lower case: "Gadgets" is "gadgets") is sealed in ${file} (key fingerprint ${short(KEY)}).`,
    ]);

    vi.mocked(console.log).mockClear();
    expect(await keys(['set-group', '--group', 'gadgets', '--data-dir', dataDir])).toBe(0);
    expect(printed()).toEqual([
      `The key of group "gadgets" is sealed in ${file} again: it is the key stored before (key fingerprint ${short(KEY)}), so nothing changes for the devices.`,
    ]);

    const other = randomBytes(32).toString('base64');
    vi.stubEnv('LINE_STATION_GROUP_KEY', other);
    vi.mocked(console.log).mockClear();
    const refused = await keys(['set-group', '--group', 'gadgets', '--data-dir', dataDir]).then(
      (code) => `no refusal: ${code}`,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({
      code: 'KEYS_GROUP_KEY_DIFFERS',
      message: `Group "gadgets" already has a different key stored (fingerprint ${short(KEY)}; the key given: ${short(other)}); nothing was changed. Devices provisioned with the stored key keep keys derived from it: they register only while DPS's enrollment group "gadgets" holds that key as its primary or secondary key. If the key given is the group's key in DPS, replace the stored one: \`station keys set-group --group gadgets --replace --data-dir ${dataDir}\`.`,
    });
    expect(await heldKey('gadgets')).toBe(KEY);
    expect(storedEvents()).toHaveLength(2);

    expect(
      await keys([
        'set-group',
        '--group',
        'gadgets',
        '--replace',
        '--by',
        'sam',
        '--data-dir',
        dataDir,
      ]),
    ).toBe(0);
    expect(await heldKey('gadgets')).toBe(other);
    expect(printed()).toEqual([
      `The key of group "gadgets" REPLACES the key stored before in ${file}: the stored one was a different key (fingerprint ${short(KEY)}); the new key's fingerprint is ${short(other)}.`,
      `Devices provisioned before keep keys derived from the old key: they fail to register unless DPS's enrollment group "gadgets" holds the old key as its other key (primary or secondary) beside the new one. Devices provisioned from now on get keys derived from the new key.`,
    ]);
    const fingerprintOf = (key: string) =>
      createHash('sha256')
        .update(GROUP_KEY_FINGERPRINT_LABEL)
        .update(Buffer.from(key, 'base64'))
        .digest('hex');
    expect(storedEvents()).toMatchObject([
      {
        actor: 'supervisor:sam',
        detail: {
          replaced: true,
          sameKey: false,
          keyFingerprint: fingerprintOf(other),
          previousKeyFingerprint: fingerprintOf(KEY),
        },
      },
      { detail: { replaced: true, sameKey: true, previousKeyFingerprint: fingerprintOf(KEY) } },
      { detail: { replaced: false } },
    ]);
    // Neither key, in any encoding, in what was said or recorded.
    const said = Buffer.from(JSON.stringify([printed(), refused, storedEvents()]));
    const needles = [KEY, other].flatMap((key, i) =>
      secretEncodings(`key ${i}`, Buffer.from(key, 'base64')),
    );
    expect(findNeedles('output', said, needles)).toEqual([]);
  });

  it('tells that a serving line goes on with the key it opened, and replaces a stored key that does not open only with --replace', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    expect(await keys(['set-group', '--group', 'gadgets', '--data-dir', dataDir])).toBe(0);
    // Sealed under another passphrase (a CA imported again since): the station cannot open it.
    await saveGroupKey(
      dataDir,
      'gadgets',
      KEY,
      new PassphraseKeyWrapper('an older passphrase', { scrypt: { N: 1024 } }),
    );
    const other = randomBytes(32).toString('base64');
    vi.stubEnv('LINE_STATION_GROUP_KEY', other);
    await expect(
      keys(['set-group', '--group', 'gadgets', '--data-dir', dataDir]),
    ).rejects.toMatchObject({
      code: 'KEYS_GROUP_KEY_UNREADABLE',
      message: expect.stringContaining(
        `A key is stored for group "gadgets" but does not open here, so whether the key given (fingerprint ${short(other)}) is the same cannot be told; nothing was changed.`,
      ),
      detail: expect.stringContaining('CUSTODY_'),
    });

    // A line serving the folder, as `serve` records itself (this test's own, running, process).
    const unmark = markServing(dataDir, { connectionAtStart: false, locked: false });
    try {
      vi.mocked(console.log).mockClear();
      expect(
        await keys(['set-group', '--group', 'gadgets', '--replace', '--data-dir', dataDir]),
      ).toBe(0);
    } finally {
      unmark();
    }
    expect(await heldKey('gadgets')).toBe(other);
    expect(printed()[0]).toMatch(
      /REPLACES the key stored before in .*: the stored one was a key that did not open here \(CUSTODY_/,
    );
    expect(printed()[2]).toBe(
      `A line serves this data folder now (process ${process.pid} on ${hostname()}): it goes on with the key it opened at its start or unlock until it is restarted, so restart it, or the devices it provisions get keys derived from the old key.`,
    );
    expect(storedEvents()[0]).toMatchObject({
      detail: { replaced: true, previousKeyUnreadable: true },
    });
  });
});

describe('station keys set-group, as the supervisor runs it', () => {
  it('exits 1 with the code and the command to replace, and keeps the stored key', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', PASSPHRASE);
    expect(await keys(['set-group', '--group', 'gadgets', '--data-dir', dataDir])).toBe(0);
    const other = randomBytes(32).toString('base64');
    const run = promisify(execFile);
    const cli = join(process.cwd(), 'station', 'cli.ts');
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const env = {
      ...process.env,
      LINE_STATION_CA_PASSPHRASE: PASSPHRASE,
      LINE_STATION_GROUP_KEY: other,
    };
    const args = [cli, 'keys', 'set-group', '--group', 'gadgets', '--data-dir', dataDir];
    const refused = await run(tsx, args, { env }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[KEYS_GROUP_KEY_DIFFERS]');
    expect(refused.stderr).toContain(
      `station keys set-group --group gadgets --replace --data-dir ${dataDir}`,
    );
    expect(refused.stderr).not.toContain(other);
    expect(await heldKey('gadgets')).toBe(KEY);
  }, 30_000);
});
