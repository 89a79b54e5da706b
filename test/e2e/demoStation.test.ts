import { afterEach, describe, expect, it } from 'vitest';
import { startDemoStation, type DemoStation } from '../../station/demo/demoStation.js';
import { events } from '../../station/line/testing/lineTestKit.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';

let station: DemoStation | undefined;
afterEach(async () => {
  await station?.stop();
  station = undefined;
});

describe('the DEMO station: simulated devices on real ttys, DEMO CA, the SQLite store', () => {
  it('provisions every device into the outbox; a device unplugged mid-run leaves an abandoned certificate', async () => {
    const lines: string[] = [];
    station = await startDemoStation({
      devices: 4,
      baudRate: 0,
      mode: 'manual',
      log: (line) => lines.push(line),
      // The outbox is looked at before any sync; the DPS loop is dpsEndToEnd.test.ts's.
      dps: false,
    });
    const { line, simulator, recorder, ca } = station;
    expect(recorder).toBeInstanceOf(ProvisioningStore);
    const store = recorder as ProvisioningStore;
    const status = line.status();
    expect(status.demo).toBe(true);
    expect(status.profile).toMatch(/DEMO/);
    expect(status.notes.join(' ')).toMatch(/DEMO line/);
    expect(line.slots().map((s) => s.port)).toEqual(simulator.devices.map((d) => d.hostPath));

    const unplugged = simulator.devices[3]!.faults.unplugDuringNext('PUT_CERT_CHAIN');
    const ended = events(station.line.onRunEnded, 4);
    line.setMode('auto');
    const runs = await ended;
    await unplugged;

    const passed = runs.filter((r) => r.outcome.state === 'pass').map((r) => r.slot);
    expect(passed.sort()).toEqual([1, 2, 3]);
    expect(store.outboxCounts()).toMatchObject({ pending: 3 });
    expect(
      store
        .listOutbox()
        .map((e) => e.registrationId)
        .sort(),
    ).toEqual(['ls-demo-1-sim000001', 'ls-demo-1-sim000002', 'ls-demo-1-sim000003']);

    const failed = store.runs().find((r) => r.state === 'fail')!;
    expect(failed).toMatchObject({
      serialNumber: 'SIM000004',
      registrationId: 'ls-demo-1-sim000004',
      error: { code: 'WIRE_DISCONNECTED' },
    });
    const certificates = await ca.ca.list({ registrationId: 'ls-demo-1-sim000004' });
    expect(certificates).toMatchObject([
      { serialNumber: failed.certificateSerial, status: 'abandoned' },
    ]);
    const committed = await ca.ca.list({ registrationId: 'ls-demo-1-sim000001' });
    expect(committed).toMatchObject([{ status: 'committed' }]);
    expect(lines.some((l) => /slot 4 .*: FAIL WIRE_DISCONNECTED/.test(l))).toBe(true);
  });
});
