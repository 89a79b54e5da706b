/**
 * A profiles file edited between two starts of a real line: the start compares the profile with
 * what the last run of that profile on the station recorded, and writes one `profile.changed` audit event and
 * a warning in the log when it differs. The station's own CA under a passphrase, a file store, a
 * simulated device on a real pty.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { codeOf, nextRunEnd } from '../line/testing/lineTestKit.js';
import { PROFILE_CHANGED } from '../store/profileChanges.js';
import { openProductionStation, type ProductionStation } from './productionStation.js';

const PASSPHRASE = 'profile change passphrase';
const SCOPE = '0ne00000A01';
const EDITED_SCOPE = '0ne00000A02';

let dataDir: string;
let profilesFile: string;
let simulator: Simulator | undefined;
let station: ProductionStation | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ls-profile-change-'));
  await initStationCa(join(dataDir, 'ca'), {
    name: 'Profile change TEST',
    wrapper: new PassphraseKeyWrapper(PASSPHRASE),
  });
  profilesFile = join(dataDir, 'profiles.json');
});

afterEach(async () => {
  await station?.stop();
  await simulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
  station = simulator = undefined;
});

/** Writes the profiles file with one profile, as a supervisor would edit it. */
function writeProfile(profile: Record<string, unknown>): Promise<void> {
  return writeFile(profilesFile, JSON.stringify({ profiles: [profile] }, null, 2));
}

const sensor = (idScope: string) => ({
  name: 'Sensor v2',
  models: ['LS-DEMO-1'],
  dps: { idScope },
  attestation: { mode: 'x509-device-key' },
});

/** Starts the line on the device's port and returns what it logged while starting. */
async function start(port: string, mode: 'auto' | 'manual', product?: string): Promise<string[]> {
  const logs: string[] = [];
  station = await openProductionStation({
    dataDir,
    profilesFile,
    ...(product !== undefined && { product }),
    ports: [port],
    discover: false,
    baudRate: 0,
    mode,
    passphrase: PASSPHRASE,
    log: (line) => logs.push(line),
  });
  return logs;
}

async function stop(): Promise<void> {
  await station?.stop();
  station = undefined;
}

describe('a line started with a profile edited since the last run', () => {
  it('records the change once, in the audit trail and the log; a first start or the same profile, nothing', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const port = simulator.devices[0]!.hostPath;
    await writeProfile(sensor(SCOPE));

    // The first start: no run recorded a profile yet, so there is nothing to compare with.
    let logs = await start(port, 'auto');
    const first = await nextRunEnd(station!.line, 20_000);
    expect(codeOf(first)).toBe('PASS');
    const passed = station!.store.run(first!.outcome.runId!)!;
    expect(passed.dps).toMatchObject({ idScope: SCOPE });
    expect(logs.join('\n')).not.toContain('has changed');
    expect(station!.store.audit(PROFILE_CHANGED)).toEqual([]);
    await stop();

    // The same profile written otherwise (keys reordered, a default spelled out): no change.
    await writeProfile({
      attestation: { mode: 'x509-device-key' },
      dps: { globalEndpoint: 'global.azure-devices-provisioning.net', idScope: SCOPE },
      models: ['LS-DEMO-1'],
      name: 'Sensor v2',
    });
    logs = await start(port, 'manual');
    expect(logs.join('\n')).not.toContain('has changed');
    expect(station!.store.audit(PROFILE_CHANGED)).toEqual([]);
    await stop();

    // Another well-formed scope: one event, and a warning that names both scopes.
    await writeProfile(sensor(EDITED_SCOPE));
    logs = await start(port, 'manual');
    const warning = logs.find((line) => line.includes('has changed'));
    expect(warning).toMatch(/^Warning: Profile "Sensor v2" has changed since its last run/);
    expect(warning).toContain(`run ${passed.id}`);
    expect(warning).toContain(`ID scope ${SCOPE} -> ${EDITED_SCOPE}`);
    expect(warning).toContain(`recorded in the audit trail as ${PROFILE_CHANGED}`);
    const [event, ...more] = station!.store.audit(PROFILE_CHANGED);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ actor: 'station', subject: 'profile:Sensor v2' });
    expect(event!.detail).toEqual({
      profile: 'Sensor v2',
      previousFingerprint: passed.dps!.profileFingerprint,
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      previousIdScope: SCOPE,
      idScope: EDITED_SCOPE,
      previousRunId: passed.id,
    });
    expect(event!.detail.fingerprint).not.toBe(passed.dps!.profileFingerprint);
    await stop();

    // Started again with no run between: the warning stays, the event is not written twice.
    logs = await start(port, 'manual');
    expect(logs.join('\n')).toContain(`recorded as ${PROFILE_CHANGED} at an earlier start`);
    expect(station!.store.audit(PROFILE_CHANGED)).toHaveLength(1);

    // A run with the edited profile (refused: the board passed before) records it, so the next
    // start has nothing to say.
    const refused = nextRunEnd(station!.line, 20_000);
    station!.line.provision(1);
    const rerun = await refused;
    expect(codeOf(rerun)).toBe('RUN_DUPLICATE_DEVICE');
    expect(station!.store.run(rerun!.outcome.runId!)!.dps).toMatchObject({
      idScope: EDITED_SCOPE,
      profileFingerprint: event!.detail.fingerprint,
    });
    await stop();
    logs = await start(port, 'manual');
    expect(logs.join('\n')).not.toContain('has changed');
    expect(station!.store.audit(PROFILE_CHANGED)).toHaveLength(1);
  });

  it('takes a switch to another product of the file for no change of either', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const port = simulator.devices[0]!.hostPath;
    const gateway = { ...sensor(EDITED_SCOPE), name: 'Gateway' };
    await writeFile(profilesFile, JSON.stringify({ profiles: [sensor(SCOPE), gateway] }, null, 2));

    await start(port, 'auto', 'Sensor v2');
    expect(codeOf(await nextRunEnd(station!.line, 20_000))).toBe('PASS');
    await stop();

    // Gateway's first start on this station: the Sensor run before it is no earlier Gateway.
    let logs = await start(port, 'manual', 'Gateway');
    expect(logs.join('\n')).not.toContain('has changed');
    const refused = nextRunEnd(station!.line, 20_000);
    station!.line.provision(1);
    expect(codeOf(await refused)).toBe('RUN_DUPLICATE_DEVICE');
    await stop();

    // Back to Sensor, unchanged: its own last run is what it is compared with.
    logs = await start(port, 'manual', 'Sensor v2');
    expect(logs.join('\n')).not.toContain('has changed');
    expect(station!.store.audit(PROFILE_CHANGED)).toEqual([]);
  });
});
