import { declareBundleLost } from '../bundle/bundleLost.js';
import { openExistingStationDatabase } from './existingDatabase.js';
import { stationCommand } from './stationCommand.js';
import { zonedLocalTime } from './timeFlags.js';

/**
 * `station bundle lost ID`: a bundle that will never be synced no longer holds back what it
 * carried. Says what that freed and what to do next: export again.
 */
export function bundleLostCommand(dataDir: string, bundleId: string, by: string): number {
  const db = openExistingStationDatabase(dataDir);
  try {
    const s = declareBundleLost(db, bundleId, by);
    if (s.earlier) {
      console.log(
        `Bundle ${s.bundleId} (${s.file}) was declared lost ${zonedLocalTime(s.earlier.at)} by ${s.earlier.by}; nothing changed.`,
      );
      return 0;
    }
    console.log(`Bundle ${s.bundleId} (${s.file}) is declared lost by ${by}.`);
    const freed = [
      s.freed > 0 && `${s.freed} pending enrollment(s) it carried go in the next export`,
      s.retirementsFreed > 0 &&
        `${s.retirementsFreed} earlier enrollment(s) due to be disabled or deleted in DPS no longer wait for its receipt`,
    ].filter((part): part is string => part !== false);
    if (freed.length === 0) {
      console.log('It held nothing back: every row it carried was answered or goes elsewhere.');
    } else {
      console.log(`${freed.join('; ')}: run \`${stationCommand('bundle export', dataDir)}\`.`);
    }
    console.log(
      'Should the bundle turn up, sync it only if its receipt will come back here: received, it sets right what that late sync changed in DPS (earlier enrollments it put back are disabled or deleted again, later ones read from DPS again). A late sync whose receipt never comes back can leave an earlier enrollment enabled in DPS.',
    );
    return 0;
  } finally {
    db.close();
  }
}
