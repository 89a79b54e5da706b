/**
 * The environment variables that may carry a secret into the station (services, CI). A variable
 * left in process.env stays readable in /proc/<pid>/environ of this process and of every child it
 * starts (the Electron window, its core, the build scripts) for as long as they run: so each is
 * taken out of process.env as it is read, and left out of any environment the station builds for
 * a child.
 */

/** Every variable the station reads a secret from: one list, for readers and children alike. */
export const SECRET_ENV_NAMES = [
  'LINE_STATION_CA_PASSPHRASE',
  'LINE_STATION_GROUP_KEY',
  'LINE_STATION_DPS_CONNECTION',
  'LINE_STATION_BUNDLE_PASSPHRASE',
  'LINE_STATION_IMPORT_PASSWORD',
] as const;

/**
 * What was taken from the environment, held in memory only: one process may need a secret twice
 * (a command that checks the CA passphrase, then opens the CA with it), and it is no longer in
 * process.env the second time.
 */
const taken = new Map<string, string>();

/**
 * The secret in the variable `name`, removed from process.env; undefined when it is unset or
 * empty. A variable set again (even empty) replaces what was taken before.
 */
export function takeSecretEnv(name: string): string | undefined {
  const value = process.env[name];
  if (value === undefined) return taken.get(name);
  delete process.env[name];
  if (value === '') {
    taken.delete(name);
    return undefined;
  }
  taken.set(name, value);
  return value;
}

/** Whether the secret of `name` is, or was, given in this process's environment. */
export function secretFromEnv(name: string): boolean {
  const value = process.env[name];
  return value === undefined ? taken.has(name) : value !== '';
}

/** This process's environment with `added`, and none of the secret variables, for a child. */
export function childEnvironment(added: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...added };
  for (const name of SECRET_ENV_NAMES) delete env[name];
  return env;
}
