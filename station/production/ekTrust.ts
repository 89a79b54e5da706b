import { fileURLToPath } from 'node:url';
import { EkTrustStore, shippedEkTrustFolder } from '../../certs/tpm/ekTrustStore.js';
import { stationPaths } from '../cli/dataDir.js';

/**
 * The application's folder: two up from this file in the sources (station/production/) and in
 * every build, which keeps its chunks two folders deep (dist/<name>/, nodeBundle.ts).
 */
const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The TPM vendor CAs a tpm line checks EK certificates against: those shipped with the station
 * (certs/trust/tpm-vendors) and those a supervisor added to `<data>/trust/tpm-vendors`, for a
 * vendor the station does not ship or a customer's own TPM CA.
 */
export async function loadEkTrust(
  dataDir: string,
): Promise<{ trust: EkTrustStore; folders: string[] }> {
  const folders = [shippedEkTrustFolder(APP_DIR), stationPaths(dataDir).ekTrustDir];
  return { trust: await EkTrustStore.fromFolders(folders), folders };
}
