/**
 * The factory of a real line that starts locked (`--locked`, and the desktop window, which has
 * no terminal to ask in): what can be read without the passphrase is checked and shown at once
 * (profile, ports, CA, outbox counts); the line itself opens when a supervisor unlocks it.
 */
import { existsSync } from 'node:fs';
import { openCa } from '../../certs/ca/openCa.js';
import type { StationFactory } from '../api/stationFactory.js';
import type { OutboxCounts } from '../line/lineTypes.js';
import { hasDpsConnection } from '../sync/dpsCredentials.js';
import { OutboxListing } from '../store/outboxListing.js';
import { appendAuditEvent } from '../store/auditAppend.js';
import { openStationDatabaseToRead } from '../store/stationDatabase.js';
import { stationPaths } from '../cli/dataDir.js';
import { dataDirFlag } from '../cli/stationCommand.js';
import { markUnlocked } from '../sync/servingStation.js';
import { LockedLine, LOCKED_NOTE } from './lockedLine.js';
import { checkLineSetup, openProductionStation, type LineSelection } from './productionStation.js';

export async function lockedLineStation(
  selection: LineSelection,
  mode: 'auto' | 'manual',
): Promise<StationFactory> {
  const profile = await checkLineSetup(selection);
  const ca = (await openCa(stationPaths(selection.dataDir).caDir)).status();
  return async (context) => {
    const line = new LockedLine({
      status: {
        demo: false,
        profile: profile.name,
        mode,
        ca: { locked: true, subject: ca.subject, daysLeft: ca.daysLeft },
        // Whether a connection is stored shows without the passphrase; it opens with the line.
        ...(hasDpsConnection(selection.dataDir) && {
          sync: { state: 'locked', connection: 'unknown' },
        }),
      },
      outbox: outboxAtRest(stationPaths(selection.dataDir).database),
      open: async (passphrase, wrongTriesBefore) => {
        // The line reads the connection as it opens: what `sync status` says of it from now on.
        const connectionAtUnlock = hasDpsConnection(selection.dataDir);
        const station = await openProductionStation({
          ...selection,
          mode,
          passphrase,
          log: context.log,
        });
        markUnlocked(selection.dataDir, connectionAtUnlock);
        try {
          station.store.recordLineUnlocked({ profile: profile.name, wrongTriesBefore });
        } catch (err) {
          // The line runs: a store that cannot take this event says so at its first device.
          context.log(`The unlock was not written to the audit trail: ${(err as Error).message}`);
        }
        return station;
      },
      recordWrongPassphrase: (inARow, waitMs) =>
        appendAuditEvent(stationPaths(selection.dataDir).database, {
          actor: 'station',
          kind: 'line.unlock-refused',
          subject: 'line',
          detail: {
            profile: profile.name,
            inARow,
            ...(waitMs !== undefined && { nextTryAfterSeconds: Math.ceil(waitMs / 1000) }),
            via: 'the unlock form at the workstation',
          },
        }),
      log: context.log,
    });
    context.log(LOCKED_NOTE);
    const flag = dataDirFlag(selection.dataDir);
    return { line, stop: () => line.stop(), ...(flag !== undefined && { dataDirFlag: flag }) };
  };
}

/** The outbox counts of a station that is not running yet: none before its first device. */
function outboxAtRest(database: string): OutboxCounts {
  if (!existsSync(database)) return { pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 };
  const db = openStationDatabaseToRead(database);
  try {
    return new OutboxListing(db).counts();
  } finally {
    db.close();
  }
}
