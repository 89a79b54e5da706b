import type { StationFactory } from '../api/stationFactory.js';
import { checkLineSetup, openProductionStation } from '../production/productionStation.js';
import type { SavedLine } from '../production/savedLine.js';
import type { LineSelection } from './lineOptions.js';
import { readPassphrase } from './passphrase.js';

/**
 * The factory of a real line, for `serve` and `start`. Checks what is not secret first
 * (profile, ports, CA), so a mistyped profiles file is reported before the supervisor types the
 * CA passphrase, then asks for the passphrase.
 */
export async function lineStation(
  selection: LineSelection,
  mode: 'auto' | 'manual',
): Promise<StationFactory> {
  await checkLineSetup(selection);
  const passphrase = await readPassphrase('CA passphrase: ');
  return (context) => openProductionStation({ ...selection, mode, passphrase, log: context.log });
}

/** The factory of a saved line (`station line save`); `mode` overrides the saved one. */
export function savedLineStation(
  dataDir: string,
  saved: SavedLine,
  mode: 'auto' | 'manual' = saved.mode,
): Promise<StationFactory> {
  const selection: LineSelection = {
    dataDir,
    profilesFile: saved.profiles,
    ...(saved.product !== undefined && { product: saved.product }),
    ports: saved.devices,
    discover: saved.discover,
    baudRate: saved.baud,
  };
  return lineStation(selection, mode);
}
