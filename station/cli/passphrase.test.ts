import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readPassphrase } from './passphrase.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Standard input as a pipe (not a terminal) that has already received `text`. */
function pipedStdin(text: string): PassThrough {
  const stdin = new PassThrough();
  stdin.end(text);
  vi.spyOn(process, 'stdin', 'get').mockReturnValue(stdin as unknown as typeof process.stdin);
  return stdin;
}

describe('readPassphrase from a pipe', () => {
  it('reads one secret per line when a command asks for two (group key, then CA passphrase)', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    // `printf 'KEY\nPASSPHRASE\n' | station keys set-group …` arrives as one chunk.
    pipedStdin('the group key\nthe ca passphrase\n');
    expect(await readPassphrase('Group key: ', { env: 'LINE_STATION_GROUP_KEY' })).toBe(
      'the group key',
    );
    expect(await readPassphrase('CA passphrase: ')).toBe('the ca passphrase');
    await expect(readPassphrase('CA passphrase: ')).rejects.toThrow(
      'no CA passphrase on standard input',
    );
  });

  // `echo "$CS" | station sync set-connection` sends the connection string and no passphrase.
  it('names the secret that is missing and the other ways to give it', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    vi.stubEnv('LINE_STATION_DPS_CONNECTION', '');
    pipedStdin('HostName=dps.example;SharedAccessKeyName=p;SharedAccessKey=a2V5\n');
    await readPassphrase('DPS service connection string: ', {
      env: 'LINE_STATION_DPS_CONNECTION',
    });
    const missing = readPassphrase('CA passphrase: ');
    await expect(missing).rejects.toThrow(/no CA passphrase on standard input/);
    await expect(missing).rejects.toThrow(/one line per secret/);
    await expect(missing).rejects.toThrow(/set LINE_STATION_CA_PASSPHRASE/);
    // Coded, so that a command that can go on without it tells it from a wrong one.
    await expect(missing).rejects.toMatchObject({ code: 'PASSPHRASE_MISSING' });
  });

  it('names the secret a new passphrase is too short for', async () => {
    vi.stubEnv('LINE_STATION_BUNDLE_PASSPHRASE', 'short');
    const bundle = { env: 'LINE_STATION_BUNDLE_PASSPHRASE', confirm: true };
    await expect(
      readPassphrase('New bundle passphrase: ', { ...bundle, what: 'bundle passphrase' }),
    ).rejects.toThrow('a new bundle passphrase needs at least 12 characters');
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'short');
    await expect(readPassphrase('CA passphrase: ', { confirm: true })).rejects.toMatchObject({
      code: 'PASSPHRASE_TOO_SHORT',
      message: 'a new CA passphrase needs at least 12 characters',
    });
  });

  it('reads a last line without a newline', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    pipedStdin('only line');
    expect(await readPassphrase('CA passphrase: ')).toBe('only line');
  });
});

describe('readPassphrase from a terminal', () => {
  /** Standard input as a terminal on which the operator types `answers`, one per prompt. */
  function typedAtTerminal(answers: string[]): void {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(stdin as unknown as typeof process.stdin);
    // Each answer is typed once its prompt shows, as a person would: not ahead of it.
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      if (typeof text === 'string' && text.endsWith(': ')) {
        const answer = answers.shift();
        if (answer !== undefined) setImmediate(() => stdin.write(`${answer}\r`));
      }
      return true;
    });
  }

  it('refuses a new passphrase typed differently the second time, with its code', async () => {
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
    typedAtTerminal(['the first passphrase', 'the other passphrase']);
    await expect(readPassphrase('New CA passphrase: ', { confirm: true })).rejects.toMatchObject({
      code: 'PASSPHRASE_MISMATCH',
      message: 'the two passphrases differ',
    });
  });
});

describe('readPassphrase from a systemd credential', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-credentials-'));
    vi.stubEnv('CREDENTIALS_DIRECTORY', dir);
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', '');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const credential = (text: string) => writeFile(join(dir, 'line-station-ca-passphrase'), text);

  it('takes the CA passphrase from it, without the newline `echo` leaves', async () => {
    await credential('the ca passphrase\n');
    pipedStdin('not this one\n');
    expect(await readPassphrase('CA passphrase: ')).toBe('the ca passphrase');
  });

  it('gives way to LINE_STATION_CA_PASSPHRASE, and holds only the CA passphrase', async () => {
    await credential('from the credential');
    vi.stubEnv('LINE_STATION_CA_PASSPHRASE', 'from the environment');
    expect(await readPassphrase('CA passphrase: ')).toBe('from the environment');
    vi.stubEnv('LINE_STATION_GROUP_KEY', '');
    pipedStdin('the group key\n');
    expect(await readPassphrase('Group key: ', { env: 'LINE_STATION_GROUP_KEY' })).toBe(
      'the group key',
    );
  });

  it('is skipped when the service has no such credential; refused when it is empty', async () => {
    pipedStdin('typed\n');
    expect(await readPassphrase('CA passphrase: ')).toBe('typed');
    await credential('\n');
    await expect(readPassphrase('CA passphrase: ')).rejects.toMatchObject({
      code: 'PASSPHRASE_CREDENTIAL_EMPTY',
      message: 'the systemd credential line-station-ca-passphrase is empty',
    });
  });

  it('is refused, with its code, when it is there but cannot be read', async () => {
    // A folder in its place: unreadable as a file even to root, who reads any file's mode.
    await mkdir(join(dir, 'line-station-ca-passphrase'));
    pipedStdin('not this one\n');
    await expect(readPassphrase('CA passphrase: ')).rejects.toMatchObject({
      code: 'PASSPHRASE_CREDENTIAL_UNREADABLE',
      message: 'the systemd credential line-station-ca-passphrase cannot be read (EISDIR)',
    });
  });
});
