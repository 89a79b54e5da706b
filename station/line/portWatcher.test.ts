import { describe, expect, it } from 'vitest';
import type { DiscoveryResult } from '../../firmware-bridge/transports/portDiscovery.js';
import { PortWatcher, type PortChange } from './portWatcher.js';

/** A watcher over a fake OS port list and file system that the test changes between scans. */
function fakeWatcher(configured: string[], discover: boolean) {
  const world = {
    listed: [] as string[],
    files: new Set<string>(),
    warning: undefined as string | undefined,
    fail: false,
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
    exists: async (path) => world.files.has(path),
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
});
