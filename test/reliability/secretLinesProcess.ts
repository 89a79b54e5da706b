/**
 * The station process of the no-secrets-at-rest test: one real line per data folder, each opened
 * with `openProductionStation` (its CA, profiles file, stored DPS connection and, for a group,
 * stored group key), all in this one process so that one SIGKILL cuts them all off. Devices are
 * the parent's simulated ones on ptys; DPS is the parent's emulator (LINE_STATION_DPS_CA).
 *
 * stdout, one line each: `LOG <line> <text>` for every line the station logs, `RUN <line> <slot>
 * PASS <registrationId>` as runs end (a run that fails prints FAIL <code> and ends the process
 * with 1), `SETTLED` once every device of every line passed and its enrollment is synced. Then a
 * `stop` line on stdin stops the stations cleanly (`STOPPED`, exit 0); the parent may instead
 * kill the process.
 *
 * usage: tsx secretLinesProcess.ts '<json SecretLines>'   (passphrase in LINE_STATION_CA_PASSPHRASE)
 */
import { createInterface } from 'node:readline';
import {
  openProductionStation,
  type ProductionStation,
} from '../../station/production/productionStation.js';

/** One line of the process: its data folder and the ports of its devices. */
export interface SecretLine {
  name: string;
  dataDir: string;
  profilesFile: string;
  ports: string[];
}

export interface SecretLines {
  lines: SecretLine[];
  /** The process gives up (exit 1) when the lines have not settled by then. */
  settleTimeoutMs: number;
}

const config = JSON.parse(process.argv[2] ?? '') as SecretLines;
const passphrase = process.env.LINE_STATION_CA_PASSPHRASE;
if (!passphrase) throw new Error('LINE_STATION_CA_PASSPHRASE is not set');
const out = (text: string) => void process.stdout.write(`${text}\n`);

/** Resolves once every device of `line` passed and every enrollment of it is synced. */
function settled(line: SecretLine, station: ProductionStation): Promise<void> {
  const sync = station.sync;
  if (!sync) throw new Error(`${line.name}: no DPS connection stored, so no sync`);
  const devices = line.ports.length;
  let passed = 0;
  return new Promise((resolve) => {
    const check = () => {
      if (passed === devices && sync.status().counts.synced === devices) resolve();
    };
    station.line.onRunEnded.on(({ slot, outcome }) => {
      if (outcome.state === 'pass') {
        out(`RUN ${line.name} ${slot} PASS ${outcome.record.registrationId}`);
        passed++;
        check();
      } else {
        // A run that did not pass would leave the search with less to find: stop here.
        out(`RUN ${line.name} ${slot} FAIL ${outcome.error.code}`);
        process.stderr.write(`${line.name} slot ${slot}: ${outcome.error.message}\n`);
        process.exit(1);
      }
    });
    sync.onProgress.on(check);
    check();
  });
}

const stations: ProductionStation[] = [];
const giveUp = setTimeout(() => {
  const left = stations.map((s) => JSON.stringify(s.sync?.status().counts));
  process.stderr.write(`not settled in ${config.settleTimeoutMs} ms: ${left.join(' ')}\n`);
  process.exit(1);
}, config.settleTimeoutMs);

const waits: Promise<void>[] = [];
for (const line of config.lines) {
  const station = await openProductionStation({
    dataDir: line.dataDir,
    profilesFile: line.profilesFile,
    ports: line.ports,
    discover: false,
    baudRate: 0,
    mode: 'manual',
    passphrase,
    log: (text) => out(`LOG ${line.name} ${text}`),
  });
  stations.push(station);
  waits.push(settled(line, station));
}
for (const station of stations) station.line.setMode('auto');
await Promise.all(waits);
clearTimeout(giveUp);
out('SETTLED');

const input = createInterface({ input: process.stdin });
for await (const command of input) {
  if (command.trim() === 'stop') break;
}
input.close();
await Promise.all(stations.map((station) => station.stop()));
out('STOPPED');
