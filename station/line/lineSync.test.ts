import { describe, expect, it } from 'vitest';
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';
import { Line } from './line.js';
import type { LineSync } from './lineSync.js';
import type { StationStatus } from './lineController.js';
import { InMemoryRunRecorder, testCa, testProfile, testSealing } from './testing/lineTestKit.js';

/** A sync worker as the line sees it: a state, the three controls, a change event. */
class SyncStandIn implements LineSync {
  readonly onStateChange = new TypedEvent<void>();
  readonly onProgress = new TypedEvent<void>();
  readonly actions: string[] = [];
  state: ReturnType<LineSync['status']>['state'] = 'idle';
  status() {
    return this.state === 'offline'
      ? {
          state: this.state,
          connection: 'offline' as const,
          lastError: { code: 'SYNC_OFFLINE', message: 'DPS cannot be reached.', detail: 'x' },
          heldUntil: '2026-11-22T06:00:00.000Z',
        }
      : { state: this.state, connection: 'online' as const };
  }
  async pause() {
    this.actions.push('pause');
  }
  resume() {
    this.actions.push('resume');
  }
  async syncNow() {
    this.actions.push('now');
    throw new Error('offline'); // shown through the status, never thrown at the UI
  }
  notify() {
    this.actions.push('notify');
  }
}

async function line(): Promise<Line> {
  const { ca } = await testCa();
  return new Line({
    profile: testProfile(),
    ca,
    recorder: new InMemoryRunRecorder(),
    ports: { configured: [], discover: false, baudRate: 0 },
    mode: 'manual',
    demo: false,
    sealSecret: testSealing().seal,
  });
}

describe('the line and its outbox sync', () => {
  it('without a DPS connection: no sync in the status, and controls say why', async () => {
    const l = await line();
    expect(l.status().sync).toBeUndefined();
    expect(() => l.controlSync('now')).toThrow(
      expect.objectContaining({ code: 'LINE_SYNC_NOT_CONFIGURED' }),
    );
  });

  it('shows the sync state in the status, re-announces it on change, and passes controls on', async () => {
    const l = await line();
    const sync = new SyncStandIn();
    const statuses: StationStatus[] = [];
    l.onStatusChanged.on((s) => statuses.push(s));
    const detach = l.attachSync(sync);
    expect(l.status().sync).toEqual({ state: 'idle', connection: 'online' });
    sync.state = 'offline';
    sync.onStateChange.emit();
    expect(statuses.at(-1)?.sync).toEqual({
      state: 'offline',
      connection: 'offline',
      lastError: { code: 'SYNC_OFFLINE', message: 'DPS cannot be reached.', detail: 'x' },
      heldUntil: '2026-11-22T06:00:00.000Z',
    });
    l.controlSync('pause');
    l.controlSync('resume');
    l.controlSync('now');
    await Promise.resolve();
    expect(sync.actions).toEqual(['pause', 'resume', 'now']);
    // Its progress refreshes the outbox counts every UI shows.
    const counts: unknown[] = [];
    l.onOutboxChanged.on((c) => counts.push(c));
    sync.onProgress.emit();
    expect(counts).toEqual([{ pending: 0, syncing: 0, synced: 0, failed: 0, conflict: 0 }]);
    detach();
    sync.onProgress.emit();
    expect(counts).toHaveLength(1);
    expect(l.status().sync).toBeUndefined();
  });
});
