import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DiscoveryResult } from '../../firmware-bridge/transports/portDiscovery.js';
import { PortWatcher, type PortChange } from './portWatcher.js';

/** A watcher over a fake OS port list and file system that the test changes between scans. */
function fakeWatcher(configured: string[], discover: boolean, pollMs?: number) {
  const world = {
    listed: [] as string[],
    files: new Set<string>(),
    warning: undefined as string | undefined,
    fail: false,
    /** exists() calls: one per configured local path per poll. */
    stats: 0,
  };
  const watcher = new PortWatcher({
    configured,
    discover,
    discoverPorts: async () => {
      if (world.fail) throw new Error('udev is gone');
      const result: DiscoveryResult = {
        ports: world.listed.map((path) => ({ path, source: 'scan' })),
        method: 'scan',
      };
      if (world.warning) result.warning = world.warning;
      return result;
    },
    exists: async (path) => {
      world.stats++;
      return world.files.has(path);
    },
    ...(pollMs !== undefined && { pollMs }),
  });
  const changes: PortChange[] = [];
  const warnings: (string | undefined)[] = [];
  watcher.onChange.on((change) => changes.push(change));
  watcher.onWarning.on((warning) => warnings.push(warning));
  return { watcher, world, changes, warnings };
}

describe('PortWatcher', () => {
  it('reports configured ports as they appear and go, configured first, each change once', async () => {
    const { watcher, world, changes } = fakeWatcher(['/dev/ttyA', 'tcp://10.0.0.5:4001'], true);
    world.listed = ['/dev/ttyUSB0'];
    await watcher.scan();
    // The TCP server is always there; the local path is not yet.
    expect(changes).toEqual([
      { path: 'tcp://10.0.0.5:4001', present: true },
      { path: '/dev/ttyUSB0', present: true },
    ]);
    world.files.add('/dev/ttyA');
    world.listed = [];
    await watcher.scan();
    await watcher.scan();
    expect(changes.slice(2)).toEqual([
      { path: '/dev/ttyUSB0', present: false },
      { path: '/dev/ttyA', present: true },
    ]);
    expect(watcher.isPresent('/dev/ttyA')).toBe(true);
  });

  it('passes the discovery warning on once, and says when discovery fails outright', async () => {
    const { watcher, world, warnings } = fakeWatcher([], true);
    world.warning = 'The system port list failed (no udev); ports were found by scanning /dev.';
    await watcher.scan();
    await watcher.scan();
    world.fail = true;
    await watcher.scan();
    expect(warnings).toEqual([
      world.warning,
      'Port discovery failed (udev is gone); only configured ports are watched.',
    ]);
  });

  it('with discovery off, watches only the configured paths', async () => {
    const { watcher, world, changes } = fakeWatcher(['/dev/ttyB'], false);
    world.listed = ['/dev/ttyUSB9'];
    world.files.add('/dev/ttyB');
    await watcher.scan();
    expect(changes).toEqual([{ path: '/dev/ttyB', present: true }]);
  });

  describe('ports the line holds open', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('sets no timer while every configured port is held or always there, and polls again on release', async () => {
      vi.useFakeTimers();
      const { watcher, world, changes } = fakeWatcher(
        ['/dev/ttyA', '/dev/ttyB', 'tcp://10.0.0.5:4001'],
        false,
        1000,
      );
      world.files.add('/dev/ttyA');
      world.files.add('/dev/ttyB');
      await watcher.start();
      await vi.advanceTimersByTimeAsync(3000);
      expect(world.stats).toBe(8); // the start and three polls, two paths each

      watcher.hold('/dev/ttyA');
      await vi.advanceTimersByTimeAsync(3000);
      expect(world.stats).toBe(14); // ttyB is not held: polling goes on
      watcher.hold('/dev/ttyB');
      await vi.advanceTimersByTimeAsync(1000); // the poll already armed runs once more
      const settled = world.stats;
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(world.stats).toBe(settled);

      // The device on ttyB was unplugged: its session closed, the line lets go of the port.
      world.files.delete('/dev/ttyB');
      watcher.release('/dev/ttyB');
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(changes.at(-1)).toEqual({ path: '/dev/ttyB', present: false });
      watcher.stop();
    });

    it('still checks a held port on an explicit scan', async () => {
      const { watcher, world, changes } = fakeWatcher(['/dev/ttyA'], false);
      world.files.add('/dev/ttyA');
      await watcher.scan();
      watcher.hold('/dev/ttyA');
      world.files.delete('/dev/ttyA');
      await watcher.scan();
      expect(changes).toEqual([
        { path: '/dev/ttyA', present: true },
        { path: '/dev/ttyA', present: false },
      ]);
    });

    it('keeps polling while discovery is on: a new port shows only in the OS list', async () => {
      vi.useFakeTimers();
      const { watcher, world, changes } = fakeWatcher(['/dev/ttyA'], true, 1000);
      world.files.add('/dev/ttyA');
      await watcher.start();
      watcher.hold('/dev/ttyA');
      world.listed = ['/dev/ttyUSB0'];
      await vi.advanceTimersByTimeAsync(1000);
      expect(changes).toContainEqual({ path: '/dev/ttyUSB0', present: true });
      expect(vi.getTimerCount()).toBe(1);
      watcher.stop();
    });
  });
});
