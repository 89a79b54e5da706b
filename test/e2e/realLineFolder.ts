/**
 * A real line's data folder for the e2e tests that run `openProductionStation`: a station CA
 * sealed under a passphrase and a one-product profiles file (X.509 device key, duplicates
 * refused), in a fresh temporary folder.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initStationCa } from '../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { byIdLink } from '../../station/line/testing/lineTestKit.js';
import {
  openProductionStation,
  type ProductionStation,
} from '../../station/production/productionStation.js';

export interface RealLineFolder {
  dataDir: string;
  profilesFile: string;
}

/** `line` names the CA, the profile and the ID scope (`0ne00000A0<line>`). */
export async function makeRealLineFolder(
  line: number,
  passphrase: string,
): Promise<RealLineFolder> {
  const dataDir = await mkdtemp(join(tmpdir(), `ls-line${line}-`));
  await initStationCa(join(dataDir, 'ca'), {
    name: `Line ${line} TEST`,
    wrapper: new PassphraseKeyWrapper(passphrase),
  });
  const profile = {
    name: `LS-DEMO-1 line ${line}`,
    models: ['LS-DEMO-1'],
    dps: { idScope: `0ne00000A0${line}` },
    attestation: { mode: 'x509-device-key', curve: 'P-256' },
    duplicates: 'refuse',
  };
  const profilesFile = join(dataDir, 'profiles.json');
  await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));
  return { dataDir, profilesFile };
}

/**
 * A real line of `dataDir` on one by-id link to `hostPath` (the link udev keeps for the
 * fixture's USB adapter: one name whatever device is in), in manual mode: the held-port tests
 * switch to auto once they have armed the device's fault. `point` re-aims the link.
 */
export async function stationOnByIdLink(
  dataDir: string,
  passphrase: string,
  hostPath: string,
  log: (text: string) => void = () => undefined,
): Promise<{
  station: ProductionStation;
  port: string;
  point: (hostPath: string) => Promise<void>;
}> {
  const { port, point } = await byIdLink(dataDir, hostPath);
  const station = await openProductionStation({
    dataDir,
    profilesFile: join(dataDir, 'profiles.json'),
    ports: [port],
    discover: false,
    baudRate: 0,
    mode: 'manual',
    passphrase,
    log,
  });
  return { station, port, point };
}
