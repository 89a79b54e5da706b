import type { StationFactory } from '../api/stationFactory.js';
import { checkLineSetup, openProductionStation } from '../production/productionStation.js';
import type { SavedLine } from '../production/savedLine.js';
import { readPassphrase } from './passphrase.js';

/**
 * The factory of a saved line (`station line save`), for `start` and `serve`. Checks what is
 * not secret first (profile, ports, CA), then asks for the CA passphrase, as `serve` does for a
 * line given on its command line. `mode` overrides the saved one (`serve --manual`).
 */
export async function savedLineStation(
  dataDir: string,
  saved: SavedLine,
  mode: 'auto' | 'manual' = saved.mode,
): Promise<StationFactory> {
  const selection = {
    dataDir,
    profilesFile: saved.profiles,
    ...(saved.product !== undefined && { product: saved.product }),
    ports: saved.devices,
    discover: saved.discover,
    baudRate: saved.baud,
  };
  await checkLineSetup(selection);
  const passphrase = await readPassphrase('CA passphrase: ');
  return (context) => openProductionStation({ ...selection, mode, passphrase, log: context.log });
}
