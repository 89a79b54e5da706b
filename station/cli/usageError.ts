/**
 * A command line the station cannot act on (an empty or malformed flag value). cli.ts exits 2
 * for it, as for every other usage error, so a script can tell a typo from a device FAIL (1).
 */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A `--limit`-style flag: a whole number from 1 up, or a UsageError naming the flag. */
export function countFlag(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || !Number.isSafeInteger(value)) {
    throw new UsageError(`${flag} must be a whole number of at least 1, not "${text}"`);
  }
  return value;
}
