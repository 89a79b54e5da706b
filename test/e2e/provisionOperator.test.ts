/**
 * `station provision` at a rework bench names the person who ran it: the run records them as its
 * starter (`runs show`), and the audit trail's `device.provisioned` is theirs, not "the station's"
 * with "by the operator" and no name. Real CLI, real ttys (simulated devices on socat ptys).
 */
import { rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { makeRealLineFolder, type RealLineFolder } from './realLineFolder.js';
import { auditTrail, stationCli } from './stationCli.js';

const PASSPHRASE = 'rework bench passphrase';
let folder: RealLineFolder;
let simulator: Simulator | undefined;

beforeEach(async () => {
  folder = await makeRealLineFolder(6, PASSPHRASE);
});
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
  await rm(folder.dataDir, { recursive: true, force: true });
});

describe('station provision', () => {
  it('records the OS user, or --by NAME, as the operator who started the run', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [first, second] = simulator.devices;
    const provision = (port: string, ...by: string[]) =>
      stationCli(
        folder.dataDir,
        ['provision', '--device', port, '--profiles', folder.profilesFile, ...by],
        { LINE_STATION_CA_PASSPHRASE: PASSPHRASE },
      );
    const mine = await provision(first!.hostPath);
    expect(mine.stdout).toContain('PASS ');
    expect(mine.code).toBe(0);
    const theirs = await provision(second!.hostPath, '--by', 'ann at bench 2');
    expect(theirs.code).toBe(0);

    const me = userInfo().username;
    const provisioned = await auditTrail(folder.dataDir, 'device.provisioned');
    expect(provisioned.map((event) => [event.detail['runId'], event.actor])).toEqual([
      [2, 'operator:ann at bench 2'],
      [1, `operator:${me}`],
    ]);
    const shown = await stationCli(folder.dataDir, ['runs', 'show', '2']);
    expect(shown.stdout).toMatch(/ {2}started {7}.+, by the operator ann at bench 2\n/);
    const json = await stationCli(folder.dataDir, ['runs', 'show', '1', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ startedBy: 'operator', operatorName: me });
  }, 90_000);
});
