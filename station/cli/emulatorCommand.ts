import { join, resolve } from 'node:path';
import { parseStationArgs } from './stationArgs.js';
import { prepareCaDir, writeFileAtomic } from '../../certs/ca/caFiles.js';
import { type DpsEmulatorOptions, startDpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DPS_CA_ENV } from '../production/dpsConnection.js';
import { idScopeProblem } from '../profiles/dpsSettings.js';
import { resolveDataDir } from './dataDir.js';
import { untilSignal } from './headlessStation.js';
import { UsageError } from './usageError.js';

export const EMULATOR_USAGE = `  emulator   The local DPS emulator (DEMO, training, tests) until Ctrl-C: prints its
             connection string, ID scope, global endpoint and CA certificate file
          --port PORT       port (default 0: any free port; give one to keep the connection
                            string valid across restarts)
          --host HOST       listen address (default 127.0.0.1)
          --data-dir DIR    keep enrollments, key and ID scope in DIR/dps-emulator/ (alias --data;
                            default $LINE_STATION_DATA or ~/.line-station)
          --memory          keep nothing: a fresh emulator every run
          --id-scope SCOPE  ID scope, 0ne and 8 hex digits as in a profile (default: the
                            stored one, else a new 0ne… scope)
          --ops-per-minute N  DPS rate limit (default 1000; 0 for none)`;

/** What tests may give instead of the defaults. */
export interface EmulatorCommandDeps {
  print?: (line: string) => void;
  /** Stops the emulator when it settles (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
}

/** `station emulator`: a local stand-in for Azure IoT Hub DPS, for when the line has no cloud. */
export async function emulatorCommand(
  args: string[],
  deps: EmulatorCommandDeps = {},
): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      data: { type: 'string' },
      memory: { type: 'boolean', default: false },
      'id-scope': { type: 'string' },
      'ops-per-minute': { type: 'string', default: '1000' },
    },
  });
  // --data is an alias of --data-dir: two different folders given leave which one was meant
  // unknown (the first silently won), so neither is taken.
  const fromDataDir = values['data-dir'];
  const alias = values.data;
  if (fromDataDir !== undefined && alias !== undefined && resolve(fromDataDir) !== resolve(alias)) {
    throw new UsageError(
      `station emulator: --data-dir "${fromDataDir}" and --data "${alias}" name different folders (--data is another name of --data-dir): give one`,
    );
  }
  const print = deps.print ?? ((line: string) => console.log(line));
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535) {
    console.error('station emulator: --port must be a whole number from 0 to 65535');
    return 2;
  }
  const opsPerMinute = Number(values['ops-per-minute']);
  if (!/^\d+$/.test(values['ops-per-minute'])) {
    console.error('station emulator: --ops-per-minute must be a whole number (0 for no limit)');
    return 2;
  }
  const scope = values['id-scope'];
  // The profiles' own rule: the "dps" line printed below must pass `station profiles validate`.
  const scopeProblem = scope === undefined ? undefined : idScopeProblem(scope);
  if (scope !== undefined && scopeProblem !== undefined) {
    console.error(`station emulator: --id-scope "${scope}" ${scopeProblem}`);
    return 2;
  }
  // Listen for Ctrl-C from the start, so one pressed while the emulator starts is not lost.
  const until = deps.until ?? untilSignal();
  const folder = join(resolveDataDir(values['data-dir'] ?? values.data), 'dps-emulator');
  // The folder holds the emulator's service key and TLS key: 0700, narrowed when an earlier
  // version made it 0755, as the station does for its own CA folder (the same code).
  await prepareCaDir(folder);
  const database = join(folder, 'emulator.sqlite');
  const options: DpsEmulatorOptions = {
    host: values.host,
    port,
    storage: values.memory ? 'memory' : { file: database },
    rateLimit: opsPerMinute === 0 ? false : { operationsPerWindow: opsPerMinute, windowMs: 60_000 },
    log: (line) => print(`emulator: ${line}`),
    ...(scope !== undefined ? { idScope: scope } : {}),
  };
  const emulator = await startDpsEmulator(options);
  try {
    const caFile = join(folder, 'emulator-ca.pem');
    // 0600 from the start, whatever an older file's mode was (it is replaced, not rewritten).
    await writeFileAtomic(caFile, emulator.caCertificatePem);
    print('DEMO: a local DPS emulator, not Azure. Point the station or an SDK at it:');
    print(`  connection string  ${emulator.serviceConnectionString}`);
    print(`  ID scope           ${emulator.idScope}`);
    print(`  global endpoint    ${emulator.hostName}`);
    print(`  CA certificate     ${caFile}`);
    print(`  data               ${values.memory ? 'memory (kept for this run only)' : database}`);
    print('The connection string is a secret of this emulator: share it only with its users.');
    // A real line reaches this emulator only with all three set; without the CA file every sync
    // fails its TLS check and the line shows DPS as unreachable.
    print('To sync a station line to it:');
    print(
      `  profile            "dps": { "globalEndpoint": "${emulator.hostName}", "idScope": "${emulator.idScope}" }`,
    );
    print('  connection         station sync set-connection (paste the connection string above)');
    print(`  trust              start the station with ${DPS_CA_ENV}=${caFile}`);
    if (port === 0) {
      print('The port is new at every start: give --port N to keep the connection string valid.');
    }
    print('Press Ctrl-C to stop the emulator.');
    await until;
    print('Stopping the emulator…');
  } finally {
    await emulator.close();
  }
  return 0;
}
