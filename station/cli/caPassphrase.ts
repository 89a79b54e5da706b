import { openCa } from '../../certs/ca/openCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { readPassphrase } from './passphrase.js';
import { recordingPassphraseRefusal, type PassphraseAsker } from './passphraseRefusal.js';
import { stationPaths } from './dataDir.js';

/**
 * Reads the CA passphrase and checks it on the station CA (CUSTODY_WRONG_PASSPHRASE,
 * CA_NOT_INITIALISED) before anything is sealed under it: a secret sealed under a mistyped
 * passphrase (the DPS connection, a group key) is one no station start could open again.
 * `refusal`: the command and who ran it; a wrong passphrase is then recorded in the audit trail
 * (`ca.passphrase-refused`, passphraseRefusal.ts) before it is thrown.
 */
export async function checkedCaPassphrase(
  dataDir: string,
  options: { session?: boolean; refusal?: PassphraseAsker } = {},
): Promise<PassphraseKeyWrapper> {
  const { refusal, ...wrapperOptions } = options;
  const wrapper = new PassphraseKeyWrapper(await readPassphrase('CA passphrase: '), wrapperOptions);
  const ca = await openCa(stationPaths(dataDir).caDir);
  const unlock = (): Promise<unknown> => ca.unlock(wrapper);
  await (refusal === undefined
    ? unlock()
    : recordingPassphraseRefusal(stationPaths(dataDir).database, refusal, unlock));
  ca.lock();
  return wrapper;
}
