/**
 * Child process of readOnlyDatabase.test.ts: opens a station database as the user it runs as
 * (the test drops root for it, since root may write any file) and prints what came of it as one
 * JSON line.
 *
 *   tsx openStationDatabaseChild.ts <db file> [--require-writable]
 */
import { writeSync } from 'node:fs';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { openStationDatabase } from '../../station/store/stationDatabase.js';

const [path, flag] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: openStationDatabaseChild.ts <db file> [flag]');
const say = (result: object) => writeSync(1, `${JSON.stringify(result)}\n`);
try {
  const db = openStationDatabase(path, { requireWritable: flag === '--require-writable' });
  try {
    const store = new ProvisioningStore(db);
    const pending = store.outboxCounts().pending;
    try {
      store.beginRun('/dev/ttyUSB0', 'line7', Date.now());
      say({ opened: true, pending, begun: true });
    } catch (err) {
      say({ opened: true, pending, begun: false, code: (err as { code?: string }).code });
    }
  } finally {
    db.close();
  }
} catch (err) {
  const { code, message, detail } = err as { code?: string; message: string; detail?: string };
  say({ opened: false, code, message, detail });
}
