import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { openStationDatabase } from '../store/stationDatabase.js';
import { Line } from './line.js';
import { OutboxCountsView } from './outboxCountsView.js';
import { testLine } from './testing/lineTestKit.js';

let dir: string | undefined;
let line: Line | undefined;
afterEach(async () => {
  await line?.stop();
  line = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('OutboxCountsView', () => {
  it('stands in the last counts while reads fail, and says so once per change', () => {
    let failing = false;
    let pending = 2;
    let changes = 0;
    const view = new OutboxCountsView(
      () => {
        if (failing)
          throw Object.assign(new Error('The station could not read…'), {
            code: 'STORE_READ_FAILED',
          });
        return { pending, syncing: 0, synced: 1, failed: 0, conflict: 0 };
      },
      () => changes++,
    );
    expect(view.current().pending).toBe(2);
    failing = true;
    pending = 9;
    expect(view.current().pending).toBe(2);
    expect(view.current().pending).toBe(2);
    expect(view.note).toMatch(/last ones read.*\[STORE_READ_FAILED\]/);
    expect(changes).toBe(1);
    failing = false;
    expect(view.current().pending).toBe(9);
    expect(view.note).toBeUndefined();
    expect(changes).toBe(2);
  });
});

describe('OutboxCountsView before any read worked', () => {
  it('says the counts are not known rather than passing zeros for an empty outbox', () => {
    const view = new OutboxCountsView(
      () => {
        throw Object.assign(new Error('The station could not read…'), {
          code: 'STORE_READ_FAILED',
        });
      },
      () => undefined,
    );
    expect(view.current()).toMatchObject({ pending: 0 });
    expect(view.note).toMatch(/^The outbox counts are not known \(shown as 0\)/);
  });
});

describe('a line whose database refuses to count the outbox', () => {
  it('still answers with counts and says why in its notes, instead of throwing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-view-'));
    const db = openStationDatabase(join(dir, 'station.db'));
    line = await testLine({ recorder: new ProvisioningStore(db), mode: 'auto' });
    const notes: string[][] = [];
    line.onStatusChanged.on((status) => notes.push(status.notes));
    expect(line.outboxCounts()).toMatchObject({ pending: 0, synced: 0 });
    // What a UI asks for to connect: counts and status. A closed connection refuses every read.
    db.close();
    expect(line.outboxCounts()).toMatchObject({ pending: 0, synced: 0 });
    expect(line.status().notes.join('\n')).toMatch(/\[STORE_READ_FAILED\]/);
    expect(notes.at(-1)?.join('\n')).toMatch(/\[STORE_READ_FAILED\]/);
  });
});
