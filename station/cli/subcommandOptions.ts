import { UsageError } from './usageError.js';

/** A node:util parseArgs token (`tokens: true`), as far as the check below reads it. */
interface ArgToken {
  kind: string;
  name?: string;
}

/**
 * Refuses an option its subcommand does not take (`queue requeue --limit 1`, `ca init --cert F`):
 * the subcommands of a command share one parseArgs option set, so one given to another would be
 * parsed, then ignored, and the command would act on more, or on something else, than the
 * supervisor meant. `tokens` are parseArgs' own: the options typed, never their defaults. An
 * unknown subcommand is left to the command's own message. `hint` adds a word to the refusal of
 * an option (which subcommand takes it).
 */
export function refuseOtherOptions(
  command: string,
  sub: string | undefined,
  optionsOf: Readonly<Record<string, readonly string[]>>,
  tokens: readonly ArgToken[] | undefined,
  hint: (option: string) => string = () => '',
): void {
  if (sub === undefined || !Object.hasOwn(optionsOf, sub)) return;
  const allowed = optionsOf[sub]!;
  const stray = (tokens ?? []).find(
    (token) => token.kind === 'option' && token.name !== undefined && !allowed.includes(token.name),
  )?.name;
  if (stray !== undefined) {
    throw new UsageError(`${command} ${sub}: --${stray} is not one of its options${hint(stray)}`);
  }
}
