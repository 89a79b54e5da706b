import type { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import {
  openProductionStation,
  type ProductionStation,
} from '../../station/production/productionStation.js';

/**
 * The TPM line tests' station: the real line of `dataDir` (its CA, trust folder and store) with
 * the profiles file given, on every simulated device's port at the simulator's own pace, in
 * manual mode until the test turns it to auto. Its log lines are collected.
 */
export async function openLineOnSimulator(
  simulator: Simulator,
  options: { dataDir: string; profilesFile: string; passphrase: string },
): Promise<{ station: ProductionStation; logs: string[] }> {
  const logs: string[] = [];
  const station = await openProductionStation({
    ...options,
    ports: simulator.devices.map((d) => d.hostPath),
    discover: false,
    baudRate: 0,
    mode: 'manual',
    log: (line) => logs.push(line),
  });
  return { station, logs };
}
