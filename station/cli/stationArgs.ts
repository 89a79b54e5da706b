import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usageError.js';

/**
 * node:util parseArgs with the station's usage errors. parseArgs reads an argument that starts
 * with "-" as an option of its own, so `--limit -1` never reaches the flag's own check: it is
 * refused as "Option '--limit' argument is ambiguous", in Node's words and with Node's code. A
 * value that reads as a negative number (`-1`, `-0.5`) is therefore joined to its option
 * (`--limit=-1`), as Node itself suggests, and the command's check refuses it with its own
 * message. Any other value starting with "-" after a string option is most likely a forgotten
 * value followed by the next option, and is refused as a CLI_USAGE error saying so, as is a
 * string option with no value at all.
 */
export function parseStationArgs<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const args = config.args === undefined ? undefined : joinNegativeNumbers(config);
  try {
    return parseArgs<T>(args === undefined ? config : { ...config, args });
  } catch (err) {
    throw usageErrorOf(err) ?? err;
  }
}

/** `-1`, `-0.5`, `-3e2`: what a supervisor types as a number. */
const NEGATIVE_NUMBER = /^-\d*\.?\d+(?:e[+-]?\d+)?$/i;

function joinNegativeNumbers(config: ParseArgsConfig): string[] {
  const args = config.args ?? [];
  const stringOptions = new Set(
    Object.entries(config.options ?? {})
      .filter(([, option]) => option.type === 'string')
      .map(([name]) => `--${name}`),
  );
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // After `--` everything is a positional: leave it as typed.
    if (arg === '--') return [...joined, ...args.slice(i)];
    const next = args[i + 1];
    if (stringOptions.has(arg) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/**
 * Node's "argument is ambiguous", "argument missing" and "unexpected argument" as the station
 * says them. Node quotes the unexpected word, and a word a supervisor typed where no word goes is
 * often a secret (`keys set-group --group g1 <key>`): it would land on standard error, which a
 * service or a CI job keeps in its log. So that refusal never repeats it.
 */
function usageErrorOf(err: unknown): UsageError | undefined {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new UsageError(
      'this command takes no positional argument (the word given is not shown: it may be a ' +
        'secret); secrets are read from the terminal, stdin or their environment variable',
    );
  }
  if (code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || typeof message !== 'string') {
    return undefined;
  }
  const refused = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument (is ambiguous|missing)/.exec(
    message,
  );
  if (!refused) return undefined;
  const [, flag, why] = refused;
  return new UsageError(
    why === 'missing'
      ? `${flag!} needs a value`
      : `${flag!} needs a value, and what follows it starts with "-": give the value after it, or write ${flag!}=VALUE for a value that starts with "-"`,
  );
}

/**
 * How a command names words it did not expect, without their text: a command that reads a
 * passphrase or a password meets one typed as a word (`ca init MyPass`), and standard error lands
 * in service and CI logs.
 */
export function strayWordsText(count: number): string {
  return `${count === 1 ? 'a word' : `${count} words`} it does not take (not shown: one may be a secret)`;
}
