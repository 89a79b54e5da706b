/**
 * The whole loop on one machine: the DEMO line provisions simulated devices on real ttys, the
 * sync worker drains the outbox into the local DPS emulator over HTTPS, and each device then
 * registers with the emulator using only what the station wrote into its flash, and is assigned
 * a hub.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HUBS } from '../../dps/emulator/dpsEmulator.js';
import { startDemoStation, type DemoStation } from '../../station/demo/demoStation.js';
import type { FieldRegistration } from '../../station/demo/demoDps.js';
import { demoProfile } from '../../station/profiles/demoProfile.js';
import { productProfileSchema } from '../../station/profiles/productProfile.js';

let station: DemoStation | undefined;
afterEach(async () => {
  await station?.stop();
  station = undefined;
});

function fieldRegistrations(demo: DemoStation, count: number): Promise<FieldRegistration[]> {
  const seen: FieldRegistration[] = [];
  return new Promise((resolve) => {
    demo.dps!.onFieldRegistration.on((r) => {
      seen.push(r);
      if (seen.filter((s) => s.result).length === count) resolve(seen);
    });
  });
}

describe('DEMO line -> outbox -> DPS emulator -> devices register', () => {
  it('X.509 device keys: 8 devices provisioned, synced, registered and assigned a hub', async () => {
    station = await startDemoStation({ devices: 8, baudRate: 0, mode: 'manual' });
    const registered = fieldRegistrations(station, 8);
    station.line.setMode('auto');
    const results = await registered;

    expect(results.filter((r) => r.error)).toEqual([]);
    const ids = results.map((r) => r.registrationId).sort();
    expect(ids).toEqual(Array.from({ length: 8 }, (_, i) => `ls-demo-1-sim00000${i + 1}`));
    for (const { registrationId, result } of results) {
      expect(DEFAULT_HUBS).toContain(result!.assignedHub);
      expect(result!.deviceId).toBe(registrationId);
    }
    // Hashed allocation spreads the line over both linked hubs.
    expect(new Set(results.map((r) => r.result!.assignedHub)).size).toBe(2);

    const { emulator, sync } = station.dps!;
    expect(sync.status().counts).toMatchObject({ pending: 0, synced: 8, failed: 0, conflict: 0 });
    expect(emulator.stats()).toMatchObject({
      enrollments: 8,
      enrollmentCreates: 8,
      registrations: 8,
    });
    expect([...emulator.createCounts().values()]).toEqual(Array(8).fill(1));
    const slots = station.line.slots();
    expect(slots.every((s) => s.state === 'pass' && DEFAULT_HUBS.includes(s.registeredHub!))).toBe(
      true,
    );
  });

  it('symmetric keys: the sealed key is unsealed for DPS, and the device registers with its own key', async () => {
    const profile = productProfileSchema.parse({
      ...demoProfile(),
      name: 'DEMO symmetric (not for production)',
      attestation: { mode: 'symmetric-key-individual' },
    });
    station = await startDemoStation({ devices: 3, baudRate: 0, mode: 'manual', profile });
    const registered = fieldRegistrations(station, 3);
    station.line.setMode('auto');
    const results = await registered;
    expect(results.filter((r) => r.error)).toEqual([]);
    for (const { result } of results) {
      expect(result!.registrationState).toHaveProperty('symmetricKey');
      expect(DEFAULT_HUBS).toContain(result!.assignedHub);
    }
    expect(station.dps!.sync.status().counts).toMatchObject({ synced: 3 });
  });
});
