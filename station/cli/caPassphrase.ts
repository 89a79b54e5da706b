import { openCa } from '../../certs/ca/openCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { readPassphrase } from './passphrase.js';
import { stationPaths } from './dataDir.js';

/**
 * Reads the CA passphrase and checks it on the station CA (CUSTODY_WRONG_PASSPHRASE,
 * CA_NOT_INITIALISED) before anything is sealed under it: a secret sealed under a mistyped
 * passphrase (the DPS connection, a group key) is one no station start could open again.
 */
export async function checkedCaPassphrase(
  dataDir: string,
  options: { session?: boolean } = {},
): Promise<PassphraseKeyWrapper> {
  const wrapper = new PassphraseKeyWrapper(await readPassphrase('CA passphrase: '), options);
  const ca = await openCa(stationPaths(dataDir).caDir);
  await ca.unlock(wrapper);
  ca.lock();
  return wrapper;
}
