/**
 * What a serving line's log says of symmetric-key group members the sync failed: a group DPS
 * does not hold (SYNC_GROUP_MISSING), or one that will not take them (SYNC_GROUP_MISMATCH). The
 * log said only "they wait for a supervisor", though the fix is in DPS and then a requeue. Real
 * parts: the sync worker against the DPS emulator over HTTPS, a real station database, the group
 * key sealed in the data folder as `keys set-group` seals it, and the line's SyncLog.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../dps/auth/connectionString.js';
import { startDpsEmulator, type DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { groupKeyFingerprints } from '../sync/groupKeyFingerprint.js';
import { ManualClock } from '../sync/testing/manualClock.js';
import { SyncTestStation } from '../sync/testing/syncTestStation.js';
import { loadGroupKeySource, saveGroupKey } from './groupKeys.js';
import { SyncLog } from './syncLog.js';
import { troubleText } from './syncTroubleText.js';

const GROUP_KEY = randomBytes(32).toString('base64');
let emulator: DpsEmulator;
let station: SyncTestStation;
let dps: DpsServiceClient;

beforeEach(async () => {
  emulator = await startDpsEmulator({});
  station = new SyncTestStation();
  dps = new DpsServiceClient({
    connectionString: parseConnectionString(emulator.serviceConnectionString),
    ca: emulator.caCertificatePem,
  });
});
afterEach(async () => {
  await station.close();
  dps.close();
  await emulator.close();
});

/** One sync of the outbox as a line runs it; returns what its log said of the trouble. */
async function troubleLogged(): Promise<string[]> {
  const sync = station.worker({
    dps,
    clock: new ManualClock(Date.now()),
    groupKeys: groupKeyFingerprints(loadGroupKeySource(station.dir, station.wrapper)),
  });
  const log = new SyncLog(station.dir);
  const lines: string[] = [];
  sync.onTrouble.on((trouble) => {
    const text = log.trouble(trouble);
    if (text !== undefined) lines.push(text);
  });
  sync.start();
  await sync.syncNow();
  await sync.stop();
  return lines;
}

const dataDir = () => `--data-dir ${station.dir}`;

describe('the line log of group members the sync failed', () => {
  it('says to create the missing group in DPS with the stored key, then requeue', async () => {
    await saveGroupKey(station.dir, 'gadgets', GROUP_KEY, station.wrapper);
    station.provisionGroupMember('G1', 'gadgets');
    expect(await troubleLogged()).toEqual([
      `DPS sync: 1 of 1 enrollment(s) settled in a batch wait for a supervisor: 1 failed [SYNC_GROUP_MISSING]: reg-g1 (DPS holds no enrollment group of the name their profile gives (station queue list --status failed ${dataDir()} names it): create that enrollment group in DPS, with symmetric-key attestation and the group key stored on this station (by keys set-group) as its primary key, then station queue requeue --status failed --by NAME ${dataDir()})`,
    ]);
  });

  it('says to fix the group DPS holds with another key, or to store DPS key and provision again', async () => {
    await saveGroupKey(station.dir, 'gadgets', GROUP_KEY, station.wrapper);
    await dps.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'gadgets',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: randomBytes(32).toString('base64') },
      },
    });
    station.provisionGroupMember('G1', 'gadgets');
    const lines = await troubleLogged();
    expect(lines).toEqual([
      `DPS sync: 1 of 1 enrollment(s) settled in a batch wait for a supervisor: 1 failed [SYNC_GROUP_MISMATCH]: reg-g1 (their enrollment group in DPS will not take them (station queue list --status failed ${dataDir()} says why: disabled, another attestation, or neither of its keys is the group key their keys were derived from): fix the group in DPS (enabled, symmetric-key attestation, the station's group key as its primary or secondary key), then station queue requeue --status failed --by NAME ${dataDir()}; if DPS's key is the right one, these devices hold keys derived from the wrong one: store DPS's key (station keys set-group --group ID --replace ${dataDir()}) and provision them again)`,
    ]);
    expect(lines.join('\n')).not.toContain(GROUP_KEY);
  });

  // The worker keeps members whose group key does not open pending (it retries them): a batch
  // never settles them, so only the text itself can be checked.
  it('names keys set-group for members whose group key is not on the station', () => {
    const line = troubleText(
      {
        settled: 1,
        conflicts: [],
        failed: [{ registrationId: 'reg-g1', code: 'SYNC_GROUP_KEY_UNAVAILABLE' }],
        at: new Date().toISOString(),
      },
      station.dir,
    );
    expect(line).toContain(
      `1 failed [SYNC_GROUP_KEY_UNAVAILABLE]: reg-g1 (the key of their enrollment group is not stored on this station, or does not open here: store the group's key from DPS on this station (station keys set-group --group ID ${dataDir()}), then station queue requeue --status failed --by NAME ${dataDir()})`,
    );
  });
});
