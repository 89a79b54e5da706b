/**
 * Child process of the store's durability test: opens the store on a real file and provisions
 * devices in a loop until it is killed, printing `COMMITTED <runId>` only after commitPass has
 * returned. Every 5th device is a re-provisioning (supersede) and every 7th run fails, so a kill
 * can land in any of the store's write paths. `COMMITTING <runId>` and `FAILING <runId>` are
 * printed just before the store call, so the parent can aim its kill into one.
 *
 *   tsx commitLoop.ts <db file> <round> [--crash-in-commit <iteration>]
 *
 * With --crash-in-commit, that iteration's commit SIGKILLs its own process from inside the
 * transaction (a temp trigger after the enrollment insert), after printing `CRASHING <runId>`.
 */
import { writeSync } from 'node:fs';
import { ProvisioningStore } from '../provisioningStore.js';
import { openStationDatabase } from '../stationDatabase.js';
import { passedRun, recordIssuedCertificate } from './provisioningFixtures.js';

/** A bound on the loop, so an orphaned child cannot run forever. */
const MAX_ITERATIONS = 5_000;

const [dbPath, round, flag, crashAtText] = process.argv.slice(2);
if (dbPath === undefined || round === undefined) {
  throw new Error('usage: commitLoop.ts <db file> <round> [--crash-in-commit <iteration>]');
}
const crashAt = flag === '--crash-in-commit' ? Number(crashAtText) : -1;

const db = openStationDatabase(dbPath);
const store = new ProvisioningStore(db);
const say = (line: string) => writeSync(1, `${line}\n`);

db.function('crash_now', () => process.kill(process.pid, 'SIGKILL'));

for (let i = 0; i < MAX_ITERATIONS; i++) {
  // Every 5th device comes back: the same serial number as three iterations earlier.
  const serial = i % 5 === 4 ? `SN-${round}-${i - 3}` : `SN-${round}-${i}`;
  const runId = store.beginRun(`/dev/ttyUSB${i % 4}`, 'line7', Date.now());
  const record = passedRun(runId, serial, { registrationId: `reg-${round}-${serial}` });
  recordIssuedCertificate(db, record.certificateSerial!, record.registrationId);
  if (i % 7 === 6) {
    say(`FAILING ${runId}`);
    store.recordFailure(runId, {
      state: 'fail',
      error: { code: 'VERIFY_TIMEOUT', message: 'The device did not answer.' },
      certificateSerial: record.certificateSerial,
      device: record.device,
      registrationId: record.registrationId,
      steps: record.steps,
      finishedAt: Date.now(),
    });
    say(`FAILED ${runId}`);
    continue;
  }
  if (i === crashAt) {
    db.exec(`CREATE TEMP TRIGGER crash_in_commit AFTER INSERT ON main.enrollments
      BEGIN SELECT crash_now(); END`);
    say(`CRASHING ${runId}`);
  }
  const earlier = store.findEarlierPass({
    ...record.device,
    registrationId: record.registrationId,
  });
  say(`COMMITTING ${runId}`);
  store.commitPass(record, earlier && { supersedes: earlier });
  say(`COMMITTED ${runId}`);
}
db.close();
