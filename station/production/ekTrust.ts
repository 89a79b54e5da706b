import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertError } from '../../certs/certErrors.js';
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
 * vendor the station does not ship or a customer's own TPM CA. The supervisor's folder may be
 * absent; the shipped one may not: a build that lost it would start a line that trusts only
 * what a supervisor added, and say nothing.
 */
export async function loadEkTrust(
  dataDir: string,
  appDir: string = APP_DIR,
): Promise<{ trust: EkTrustStore; folders: string[] }> {
  const shipped = shippedEkTrustFolder(appDir);
  const isFolder = await stat(shipped).then(
    (found) => found.isDirectory(),
    () => false,
  );
  if (!isFolder) {
    throw new CertError(
      'EK_TRUST_STORE_UNREADABLE',
      `${shipped}: the TPM vendor CA folder shipped with the station is missing; reinstall the station`,
    );
  }
  const folders = [shipped, stationPaths(dataDir).ekTrustDir];
  return { trust: await EkTrustStore.fromFolders(folders), folders };
}

/**
 * The start's log line: how many vendor CAs chain to a root here, and which wait for a root
 * nobody added (their maker's EK certificates fail EK_CERT_UNTRUSTED until a supervisor does).
 */
export function ekTrustText({
  trust,
  folders,
}: {
  trust: EkTrustStore;
  folders: string[];
}): string {
  const waiting =
    trust.unanchored.length === 0
      ? ''
      : `; ${trust.unanchored.length} wait for a root not on this station (${trust.unanchored.map((file) => basename(file)).join(', ')})`;
  return `TPM vendor CAs: ${trust.anchored} of ${trust.size} certificate(s) chain to a root${waiting}; from ${folders.join(' and ')}`;
}
