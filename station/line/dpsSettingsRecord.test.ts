/**
 * What a run records of the DPS settings it writes into its device: the ID scope, the global
 * endpoint and its profile's fingerprint, with the run as it opens and in the PASS's audit event,
 * so that a day with a wrong scope can be traced to the devices it reached. Real ptys, the real
 * store on the CA's database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createDemoCa, type DemoCa } from '../demo/demoCa.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import type { Line } from './line.js';
import { profileFingerprint } from './profileFingerprint.js';
import { events, resultBySlot, testLine, testProfile } from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let line: Line | undefined;
let demoCa: DemoCa | undefined;
afterEach(async () => {
  await line?.stop();
  await simulator?.stop();
  await demoCa?.dispose();
  line = simulator = demoCa = undefined;
});

describe('the DPS settings of each run', () => {
  it('are recorded with a PASS and with a run cut off at COMMIT, as the device was given them', async () => {
    simulator = await Simulator.start({ devices: 2, link: 'pty', baudRate: 0 });
    const [passing, cut] = simulator.devices as [
      (typeof simulator.devices)[0],
      (typeof simulator.devices)[0],
    ];
    const unplugged = cut.faults.unplugDuringNext('COMMIT');
    demoCa = await createDemoCa('Line Station DPS RECORD TEST');
    const store = new ProvisioningStore(demoCa.db);
    const profile = testProfile({
      dps: { idScope: '0ne0000CD34', globalEndpoint: '127.0.0.1:8443' },
    });
    line = await testLine({
      ca: demoCa.ca,
      profile,
      recorder: store,
      ports: {
        configured: [passing.hostPath, cut.hostPath],
        discover: false,
        baudRate: 0,
        pollMs: 60_000,
      },
      mode: 'auto',
    });
    const ended = events(line.onRunEnded, 2);
    await line.start();
    const runs = await ended;
    await unplugged;
    expect(resultBySlot(runs)).toEqual({ 1: 'PASS', 2: 'RUN_COMMIT_UNCONFIRMED' });

    const recorded = {
      idScope: '0ne0000CD34',
      globalEndpoint: '127.0.0.1:8443',
      profileFingerprint: profileFingerprint(profile),
    };
    expect(recorded.profileFingerprint).toMatch(/^[0-9a-f]{16}$/);
    const bySlot = [...runs].sort((a, b) => a.slot - b.slot);
    const [pass, failure] = bySlot.map((run) => store.run(run.outcome.runId!)!);
    expect(pass).toMatchObject({ state: 'pass', dps: recorded });
    // The device may hold what COMMIT carried: its run says which settings those were.
    expect(failure).toMatchObject({ state: 'fail', dps: recorded });
    // What the record says is what the device holds.
    const config = passing.state.committed.config!;
    expect({ idScope: config.idScope, globalEndpoint: config.globalEndpoint }).toEqual({
      idScope: pass!.dps!.idScope,
      globalEndpoint: pass!.dps!.globalEndpoint,
    });

    const [provisioned, ...others] = store.audit('device.provisioned');
    expect(others).toEqual([]);
    expect(provisioned!.detail).toMatchObject({ runId: pass!.id, ...recorded });
    // Settings and a fingerprint, never a key or any other secret.
    expect(Object.keys(provisioned!.detail).sort()).toEqual([
      'attestation',
      'certificateSerial',
      'enrollmentId',
      'globalEndpoint',
      'idScope',
      'model',
      'port',
      'profile',
      'profileFingerprint',
      'runId',
      'serialNumber',
      'supersededEnrollmentId',
    ]);
    // Newest first; which of the two slots opened its run first is the event loop's choice.
    expect(store.runs({ idScope: '0ne0000cd34' }).map((run) => run.id)).toEqual(
      [failure!.id, pass!.id].sort((a, b) => b - a),
    );
  });
});
