import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { secretFromEnv, takeSecretEnv } from './secretEnv.js';

/** Environment variable a headless station may use to pass the CA passphrase (never logged). */
export const PASSPHRASE_ENV = 'LINE_STATION_CA_PASSPHRASE';
export const MIN_PASSPHRASE_LENGTH = 12;

/**
 * The systemd credential that may hold the CA passphrase (`LoadCredentialEncrypted=` in the
 * unit): systemd decrypts it, with the host's TPM or its own key, into a private in-memory folder
 * it names in CREDENTIALS_DIRECTORY, readable by the service alone. A station that starts at boot
 * unlocks itself that way without the passphrase in clear on disk or in its environment.
 */
export const PASSPHRASE_CREDENTIAL = 'line-station-ca-passphrase';

/**
 * No secret to read: none in its environment variable (or credential), and nothing on a standard
 * input that is no terminal. A command that can go on without it (an export whose retirements
 * alone need the CA passphrase) tells it from a wrong passphrase by its code.
 */
export class PassphraseMissingError extends Error {
  readonly code = 'PASSPHRASE_MISSING';
}

/**
 * A secret refused before it reaches the CA: a new one too short or typed differently twice, or
 * a systemd credential that is there but cannot be used. Coded, as every error the CLI prints
 * (`[CODE]`), so a script or the service log tells these apart from a wrong passphrase.
 */
type PassphraseErrorCode =
  | 'PASSPHRASE_TOO_SHORT'
  | 'PASSPHRASE_MISMATCH'
  | 'PASSPHRASE_CREDENTIAL_UNREADABLE'
  | 'PASSPHRASE_CREDENTIAL_EMPTY';

export class PassphraseError extends Error {
  constructor(
    readonly code: PassphraseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PassphraseError';
  }
}

/** Where systemd put the CA passphrase credential for this process, if it did. */
export function passphraseCredentialPath(): string | undefined {
  const dir = process.env['CREDENTIALS_DIRECTORY'];
  return dir ? join(dir, PASSPHRASE_CREDENTIAL) : undefined;
}

/**
 * Where `readPassphrase` takes the CA passphrase from now, in the order it looks: what a record
 * of a wrong one says instead of the passphrase (a service's stale variable is not a person
 * guessing at a terminal). A credential that cannot be read is named all the same: reading it
 * is what fails then.
 */
export function caPassphraseSource(): string {
  // Asked after the read too (a wrong passphrase), when the variable is out of process.env.
  if (secretFromEnv(PASSPHRASE_ENV)) return PASSPHRASE_ENV;
  const credential = passphraseCredentialPath();
  if (credential !== undefined && existsSync(credential)) {
    return `the systemd credential ${PASSPHRASE_CREDENTIAL}`;
  }
  return process.stdin.isTTY ? 'the terminal' : 'standard input';
}

/**
 * Reads a secret: from an environment variable when set (LINE_STATION_CA_PASSPHRASE for the CA:
 * services, CI), then for the CA passphrase from its systemd credential when the service has one,
 * from the terminal without echo when interactive, else one line from standard input (pipes).
 * `confirm` marks a new passphrase: asked twice and held to a minimum length.
 */
export async function readPassphrase(
  prompt: string,
  options: {
    confirm?: boolean;
    env?: string;
    /** One more way to go on when no secret is piped, for the command's own text. */
    missingHint?: string;
    /** What the secret is, for the length refusal; default "CA passphrase". */
    what?: string;
  } = {},
): Promise<string> {
  const env = options.env ?? PASSPHRASE_ENV;
  const checked = (passphrase: string, isNew: boolean): string =>
    checkedLength(passphrase, isNew, options.what ?? 'CA passphrase');
  // Taken out of process.env, so no child this process starts inherits it.
  const fromEnv = takeSecretEnv(env);
  if (fromEnv !== undefined) return checked(fromEnv, options.confirm ?? false);
  if (env === PASSPHRASE_ENV) {
    const fromCredential = readCredential();
    if (fromCredential !== undefined) return checked(fromCredential, options.confirm ?? false);
  }
  if (!process.stdin.isTTY) {
    const line = await noticeWhileWaiting(
      readLine(),
      pipedNotice(prompt, env, options.missingHint),
    );
    if (line === undefined) {
      throw new PassphraseMissingError(missingText(prompt, env, options.missingHint));
    }
    return checked(line, options.confirm ?? false);
  }
  const first = await promptHidden(prompt);
  if (options.confirm) {
    checked(first, true);
    const second = await promptHidden('Repeat the passphrase: ');
    if (second !== first) {
      throw new PassphraseError('PASSPHRASE_MISMATCH', 'the two passphrases differ');
    }
  }
  return first;
}

/**
 * The CA passphrase from its systemd credential, or undefined when this process has none. A
 * credential that is there but unusable is an error: falling back to a prompt nobody sees would
 * leave a service waiting for good.
 */
function readCredential(): string | undefined {
  const path = passphraseCredentialPath();
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new PassphraseError(
      'PASSPHRASE_CREDENTIAL_UNREADABLE',
      `the systemd credential ${PASSPHRASE_CREDENTIAL} cannot be read (${code})`,
    );
  }
  // `echo secret | systemd-creds encrypt …` keeps echo's newline; the passphrase has none.
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '') {
    throw new PassphraseError(
      'PASSPHRASE_CREDENTIAL_EMPTY',
      `the systemd credential ${PASSPHRASE_CREDENTIAL} is empty`,
    );
  }
  return passphrase;
}

/**
 * What to do when a pipe ends before the secret: a supervisor who piped one line to a command
 * that asks for two (`sync set-connection`: the connection string, then the CA passphrase) must
 * learn which secret is missing and the other ways to give it.
 */
function missingText(prompt: string, env: string, hint: string | undefined): string {
  const what = promptWhat(prompt);
  const ways = [
    'pipe it as a line of its own (one line per secret, in the order the command asks for them)',
    `set ${env}`,
    'run the command in a terminal',
    ...(hint === undefined ? [] : [hint]),
  ];
  return `no ${what} on standard input: ${ways.slice(0, -1).join(', ')}, or ${ways.at(-1)!}`;
}

/**
 * How long a piped read waits before it says what it waits for. A secret piped in (`echo … |`,
 * a script) is there at once and the command stays silent, as scripts that check its standard
 * error expect; a pipe left open with nothing in it (ssh without -t, an IDE, `docker run -i`)
 * would otherwise wait in silence, and the workstation look hung.
 */
export const PIPED_NOTICE_AFTER_MS = 1_000;

/** `read`, with `notice` written to standard error (one line) if it has not settled in time. */
async function noticeWhileWaiting<T>(read: Promise<T>, notice: string): Promise<T> {
  const timer = setTimeout(() => process.stderr.write(`${notice}\n`), PIPED_NOTICE_AFTER_MS);
  timer.unref();
  try {
    return await read;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a command waiting on piped standard input says, and the other places the secret can
 * come from. It names the secret only: nothing read from the pipe is ever written back.
 */
function pipedNotice(prompt: string, env: string, hint: string | undefined): string {
  // Set in the environment, it would have been read already: these are the other ways.
  const ways = [
    `set ${env}`,
    ...(env === PASSPHRASE_ENV ? [`give the systemd credential ${PASSPHRASE_CREDENTIAL}`] : []),
    'run the command in a terminal (ssh -t)',
    ...(hint === undefined ? [] : [hint]),
  ];
  const instead = `${ways.slice(0, -1).join(', ')}, or ${ways.at(-1)!}`;
  return `Waiting for the ${promptWhat(prompt)} on standard input, which is no terminal: one line, ended by Enter, never echoed by Line Station. Or ${instead}.`;
}

/** The secret a prompt asks for, as it reads mid-sentence ("CA passphrase: " → "CA passphrase"). */
function promptWhat(prompt: string): string {
  const label = prompt.replace(/:\s*$/, '');
  // "New CA passphrase" reads "new CA passphrase" mid-sentence; "DPS …" and "CA …" stay.
  return /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
}

function checkedLength(passphrase: string, isNew: boolean, what: string): string {
  if (isNew && passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new PassphraseError(
      'PASSPHRASE_TOO_SHORT',
      `a new ${what} needs at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
  return passphrase;
}

/**
 * Lines of piped standard input, read through ONE readline interface per stream: a command may
 * ask for two secrets (`keys set-group`: the group key, then the CA passphrase), and readline
 * consumes the whole chunk, so a second interface would never see the second line.
 */
const pipedLines = new WeakMap<NodeJS.ReadableStream, () => Promise<string | undefined>>();

/** The next piped line, or undefined once the input has ended. */
function readLine(): Promise<string | undefined> {
  const input = process.stdin;
  let next = pipedLines.get(input);
  if (!next) {
    next = lineQueue(input);
    pipedLines.set(input, next);
  }
  return next();
}

function lineQueue(input: NodeJS.ReadableStream): () => Promise<string | undefined> {
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let closed = false;
  const rl = createInterface({ input });
  rl.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else lines.push(line);
    // Paused between questions, so a pipe left open does not keep the process alive.
    if (waiting.length === 0) rl.pause();
  });
  rl.once('close', () => {
    closed = true;
    for (const waiter of waiting.splice(0)) waiter(undefined);
  });
  return () => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      waiting.push(resolve);
      rl.resume();
    });
  };
}

/** Prompts on the terminal with echo off; Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
