import { parseStationArgs } from './stationArgs.js';
import type { RunEnded } from '../line/line.js';
import type { SlotView } from '../line/lineTypes.js';
import {
  checkLineSetup,
  openProductionStation,
  type ProductionStation,
} from '../production/productionStation.js';
import { reportCliError } from './cliError.js';
import { stationPaths } from './dataDir.js';
import { ONE_DEVICE_OPTIONS_USAGE, lineParseOptions, lineSelection } from './lineOptions.js';
import { readPassphrase } from './passphrase.js';
import { recordingPassphraseRefusal } from './passphraseRefusal.js';
import { supervisorName } from './supervisorName.js';

export const PROVISION_USAGE = `  provision  Provision the one device on --device PATH, headless, and print each step;
          exit 0 on PASS, 1 on FAIL, 2 on a usage error, 3 when the station cannot start
          or cannot try the device (profiles, CA, passphrase, no port at --device PATH, a
          port it cannot open, a serial server refusing the connection): for scripts and
          rework benches
${ONE_DEVICE_OPTIONS_USAGE}
          --by NAME         who runs it: the run and its audit event name them, as does a
                            wrong CA passphrase (default: this OS user's name)`;

/** The exit code when the station could not start, or start the run: no device was tried. */
const STATION_DID_NOT_START = 3;

/**
 * Run endings that mean the station never reached the device: its port could not be opened
 * (held by another program, no permission, not a tty) or its serial server refused the
 * connection. The run is recorded as a FAIL, but the device itself was not tried.
 */
const DEVICE_NOT_REACHED: ReadonlySet<string> = new Set([
  'WIRE_PORT_OPEN_FAILED',
  'WIRE_SERVER_UNREACHABLE',
]);

/** `station provision --device PATH --profiles FILE`: one device, one run, no UI. */
export async function provision(args: string[]): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: { ...lineParseOptions, by: { type: 'string' } },
  });
  // One device, one run: --discover cannot be honoured, so it is refused rather than dropped.
  const selection = values.discover
    ? '--discover is for `station serve`; provision runs the one device on --device PATH'
    : lineSelection(values);
  if (typeof selection === 'string' || selection.ports.length !== 1) {
    const why = typeof selection === 'string' ? selection : 'give exactly one --device PATH';
    console.error(`station provision: ${why}\n${PROVISION_USAGE}`);
    return 2;
  }
  let station: ProductionStation;
  // The run is the operator's who typed the command: "by the operator" alone names nobody.
  let operatorName: string;
  try {
    operatorName = supervisorName(values.by);
    await checkLineSetup(selection);
    const passphrase = await readPassphrase('CA passphrase: ');
    const asker = { command: 'provision', actor: `operator:${operatorName}` } as const;
    // The line opens the CA first: a wrong passphrase is refused there, and recorded here.
    station = await recordingPassphraseRefusal(
      stationPaths(selection.dataDir).database,
      asker,
      () =>
        openProductionStation({
          ...selection,
          mode: 'manual',
          passphrase,
          log: (line) => console.log(line),
        }),
    );
  } catch (err) {
    // Not 1: a script reads 1 as "this device failed" and would set a good device aside.
    return reportCliError(err) === 2 ? 2 : STATION_DID_NOT_START;
  }
  try {
    const port = selection.ports[0]!;
    const ended = new Promise<RunEnded>((resolve) => station.line.onRunEnded.on(resolve));
    let lastStep: string | undefined;
    station.line.onSlotChanged.on((view: SlotView) => {
      if (view.step !== undefined && view.step !== lastStep) {
        lastStep = view.step;
        console.log(`  ${view.step}…`);
      }
    });
    await station.line.rescan();
    try {
      station.line.provision(1, operatorName);
    } catch (err) {
      // No run began (LINE_PORT_ABSENT: nothing at --device PATH): not 1, which reads as a FAIL.
      reportCliError(err);
      return STATION_DID_NOT_START;
    }
    const { outcome, durationMs } = await ended;
    const seconds = (durationMs / 1000).toFixed(2);
    if (outcome.state === 'pass') {
      console.log(`PASS ${outcome.record.registrationId} on ${port} in ${seconds} s`);
      console.log('The enrollment is queued in the outbox (`station queue stats`).');
      return 0;
    }
    console.log(`${outcome.state.toUpperCase()} [${outcome.error.code}] ${outcome.error.message}`);
    if (outcome.error.detail) console.log(`  detail: ${outcome.error.detail}`);
    // Not 1 either: the device was never reached, so nothing says it is bad.
    if (DEVICE_NOT_REACHED.has(outcome.error.code)) {
      console.log(`The station could not reach ${port}: the device was not tried.`);
      return STATION_DID_NOT_START;
    }
    return 1;
  } finally {
    await station.stop();
  }
}
