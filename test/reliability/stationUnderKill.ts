/**
 * The station process the SIGKILL test kills: a Line on a FILE-backed station database (CA
 * ledger and provisioning store in one SQLite file), simulated devices on real ttys, runs
 * started one after another so the kill lands mid-batch. Prints `PASS <registrationId>` when a
 * slot shows PASS — after the store's commit returned, as the UI would.
 *
 * usage: tsx stationUnderKill.ts <dataDir> <devices>
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealSecret } from '../../certs/custody/secretBox.js';
import { StationCa } from '../../certs/stationCa.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { Line } from '../../station/line/line.js';
import { demoProfile } from '../../station/profiles/demoProfile.js';
import { CertificateLedger } from '../../station/store/certificateLedger.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';

const [dataDir, devicesArg] = process.argv.slice(2);
if (!dataDir || !devicesArg) throw new Error('usage: stationUnderKill.ts <dataDir> <devices>');

const wrapper = new PassphraseKeyWrapper(randomBytes(16).toString('hex'), {
  scrypt: { N: 2 ** 12 },
});
await initStationCa(join(dataDir, 'ca'), { name: 'Kill Test', wrapper });
const db = openStationDatabase(join(dataDir, 'station.db'));
const ca = await StationCa.open(join(dataDir, 'ca'), new CertificateLedger(db));
await ca.unlock(wrapper);
const simulator = await Simulator.start({
  devices: Number(devicesArg),
  link: 'pty',
  baudRate: 115_200,
});
const profile = demoProfile();
const line = new Line({
  profile,
  ca,
  recorder: new ProvisioningStore(db),
  ports: {
    configured: simulator.devices.map((d) => d.hostPath),
    discover: false,
    baudRate: 115_200,
  },
  mode: 'manual',
  demo: true,
  sealSecret: (plaintext, context) =>
    sealSecret(plaintext, wrapper, context).then((s) => JSON.stringify(s)),
});
line.onRunEnded.on(({ outcome }) => {
  if (outcome.state === 'pass') process.stdout.write(`PASS ${outcome.record.registrationId}\n`);
});
await line.start();
process.stdout.write('READY\n');
// Staggered starts: at any moment some runs have passed, some are in flight, some not begun.
for (const [i] of simulator.devices.entries()) {
  setTimeout(() => line.provision(i + 1), i * 120);
}
