/**
 * A station data folder as `ca init` and a supervisor's profiles file leave it, for tests of the
 * production wiring: a sealed CA (cheap scrypt: these tests are not about the passphrase's cost)
 * and one X.509 device-key profile for the simulator's model.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initStationCa } from '../../../certs/ca/initStationCa.js';
import { PassphraseKeyWrapper } from '../../../certs/custody/passphraseKeyWrapper.js';
import { stationPaths } from '../../cli/dataDir.js';

export interface ProductionDataFolder {
  dataDir: string;
  profilesFile: string;
  /** Seals under the CA passphrase, as the station's own wrapper does. */
  wrapper: PassphraseKeyWrapper;
}

export async function productionDataFolder(
  prefix: string,
  passphrase: string,
  caName: string,
): Promise<ProductionDataFolder> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const wrapper = new PassphraseKeyWrapper(passphrase, { scrypt: { N: 1024 } });
  await initStationCa(stationPaths(dataDir).caDir, { name: caName, wrapper });
  const profilesFile = join(dataDir, 'profiles.json');
  const profile = {
    name: 'Sensor',
    models: ['LS-DEMO-1'],
    dps: { idScope: '0ne0012AB34' },
    attestation: { mode: 'x509-device-key' },
  };
  await writeFile(profilesFile, JSON.stringify({ profiles: [profile] }));
  return { dataDir, profilesFile, wrapper };
}
