/**
 * One line per data folder. A second `start` or `serve` of the folder a line already serves ran
 * beside it: it recorded FAIL WIRE_PORT_OPEN_FAILED runs for the ports the first holds, wrote
 * serving.json over the first's, and took it back on Ctrl-C while the first still ran. So a real
 * line claims its folder (claimServing) before it asks for the CA passphrase or opens any port,
 * and a folder that is taken is refused with a code.
 */
import { StationStartError } from '../api/stationFactory.js';
import { logStartRefusal } from '../production/stationLogFile.js';
import {
  claimServing,
  servingClaimFile,
  servingStationFile,
  type ServingHolder,
} from '../sync/servingStation.js';

export class StationAlreadyServingError extends StationStartError {
  constructor(message: string) {
    super('STATION_ALREADY_SERVING', message);
    this.name = 'StationAlreadyServingError';
  }
}

/**
 * Claims `dataDir` for the line this command starts and returns how to give it back, or throws
 * STATION_ALREADY_SERVING (kept in the folder's log too, as every refused start).
 */
export function claimDataFolder(dataDir: string): () => void {
  const claim = claimServing(dataDir);
  if ('release' in claim) {
    // A folder on a filesystem that refuses the claim file: not refused, but not silent either.
    if (claim.unclaimed !== undefined) console.error(claim.unclaimed);
    return claim.release;
  }
  const err = new StationAlreadyServingError(alreadyServingText(dataDir, claim.holder));
  logStartRefusal(dataDir, err);
  throw err;
}

function alreadyServingText(dataDir: string, holder: ServingHolder): string {
  // The record holds no URL: its token is a secret, printed only where that line was started.
  const what = holder.serving
    ? `Line Station already serves the data folder ${dataDir}${holder.locked ? ' (locked, waiting for the CA passphrase in its UI)' : ''}`
    : `Another Line Station is starting on the data folder ${dataDir}`;
  // The file too: a check of the process can be wrong (its pid taken by another program), and
  // deleting the file is then the way on.
  const file = holder.serving ? servingStationFile(dataDir) : servingClaimFile(dataDir);
  return (
    `${what}: process ${holder.pid}, since ${holder.since}. This one did not start, asked for ` +
    `no passphrase and opened no port: use that station (its UI's address was printed where it ` +
    `was started), or stop it (kill ${holder.pid}) and start again. If no station runs on this ` +
    `folder, delete ${file} and start again.`
  );
}
