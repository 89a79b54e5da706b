import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { createDemoCa, type DemoCa } from '../demo/demoCa.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { leafProfileOf } from './productLeafProfile.js';
import { runProvisioning, type RunOutcome } from './provisioningRun.js';
import { testProfile, testSealing } from './testing/lineTestKit.js';

let simulator: Simulator | undefined;
let demo: DemoCa | undefined;
afterEach(async () => {
  await simulator?.stop();
  await demo?.dispose();
  simulator = demo = undefined;
});

describe('re-provisioning while the earlier enrollment is being sent to DPS', () => {
  it('waits for the sync to let go of it, then records the pass and supersedes it', async () => {
    simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: 0 });
    const device = simulator.devices[0]!;
    demo = await createDemoCa('Line Station COMMIT TEST');
    const db = demo.db;
    const store = new ProvisioningStore(db);
    const profile = testProfile({ duplicates: 'reprovision' });
    const services = {
      ca: demo.ca,
      leafProfile: leafProfileOf(profile),
      sealSecret: testSealing().seal,
    };
    const run = async (): Promise<RunOutcome> => {
      const session = await DeviceSession.open(createTransport(device.hostPath));
      try {
        return await runProvisioning({
          port: device.hostPath,
          profile,
          recorder: store,
          services,
          session: async () => session,
        });
      } finally {
        await session.close();
      }
    };
    expect((await run()).state).toBe('pass');

    // The sync worker claims the first enrollment; it answers 300 ms after the device commits.
    db.prepare(`UPDATE enrollments SET status = 'syncing'`).run();
    device.onRequest.on(({ name }) => {
      if (name !== 'COMMIT') return;
      setTimeout(() => db.prepare(`UPDATE enrollments SET status = 'synced'`).run(), 300);
    });
    const second = await run();
    expect(second).toMatchObject({ state: 'pass' });
    const rows = db
      .prepare(`SELECT status, superseded_by AS supersededBy FROM enrollments ORDER BY id`)
      .all();
    expect(rows).toEqual([
      { status: 'superseded', supersededBy: 2 },
      { status: 'pending', supersededBy: null },
    ]);
  });
});
