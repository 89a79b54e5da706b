/**
 * The environment variables that may carry a secret into the station (services, CI). A variable
 * left in process.env is copied into every child the station starts (the Electron window and its
 * core, the build scripts, socat, the Electron probes) and stays readable in their
 * /proc/<pid>/environ for as long as they run: so the CLI takes them all out of process.env as it
 * starts (takeAllSecretEnv), and any environment the station builds for a child leaves them out.
 * The station's own /proc/<pid>/environ keeps what it was started with: deleting from process.env
 * does not change that, so a service gives the CA passphrase as a systemd credential instead.
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

/**
 * Takes every secret variable out of process.env at once (the CLI's first step), so that no
 * child started before a command reads its secret inherits it; takeSecretEnv still finds each.
 */
export function takeAllSecretEnv(): void {
  for (const name of SECRET_ENV_NAMES) takeSecretEnv(name);
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
