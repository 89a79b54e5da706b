/**
 * How a real line reaches DPS: the service connection string a supervisor sealed with
 * `station sync set-connection`, and, for a DPS that is not Azure's (`station emulator` on a
 * training bench), its CA certificate named by LINE_STATION_DPS_CA.
 */
import { readFileSync } from 'node:fs';
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import type { DpsConnectionString } from '../../dps/auth/connectionString.js';
import { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { StationStartError } from '../api/stationFactory.js';
import { hasDpsConnection, loadDpsConnectionString } from '../sync/dpsCredentials.js';
import { DPS_CA_ENV } from '../sync/tlsRefusal.js';

// Defined beside the sync's text for an untrusted DPS certificate, which names it.
export { DPS_CA_ENV };

/** The extra trust anchor for DPS (a PEM file named by LINE_STATION_DPS_CA), if any. */
export function extraDpsTrust(): string | undefined {
  const file = process.env[DPS_CA_ENV];
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new StationStartError(
      'STATION_NOT_CONFIGURED',
      `${DPS_CA_ENV} names ${file}, which cannot be read: point it at the PEM file of the CA that DPS's TLS certificate chains to, or unset it`,
      (err as Error).message,
    );
  }
}

/** The DPS service client for a connection string, trusting LINE_STATION_DPS_CA as well. */
export function dpsClientFor(connectionString: DpsConnectionString): DpsServiceClient {
  const ca = extraDpsTrust();
  return new DpsServiceClient({ connectionString, ...(ca !== undefined && { ca }) });
}

/** The line's DPS client when a connection is stored; undefined when the line runs offline. */
export async function openStoredDpsClient(
  dataDir: string,
  wrapper: KeyWrapper,
): Promise<DpsServiceClient | undefined> {
  if (!hasDpsConnection(dataDir)) return undefined;
  return dpsClientFor(await loadDpsConnectionString(dataDir, wrapper));
}
