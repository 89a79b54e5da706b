import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BindingInterface } from '../../firmware-bridge/transports/bindingTypes.js';
import {
  discoverPorts,
  type DiscoveryResult,
} from '../../firmware-bridge/transports/portDiscovery.js';
import { PortWatcher, type PortChange } from './portWatcher.js';

/** A watcher over a fake OS port list and file system that the test changes between scans. */
function fakeWatcher(configured: string[], discover: boolean, pollMs?: number) {
  const world = {
    listed: [] as string[],
    files: new Set<string>(),
    warning: undefined as string | undefined,
    fail: false,
    /** nodeOf() calls: one per configured local path per poll. */
    stats: 0,
    /** Bumped when a path's node is made again (a new device under the same name). */
    generation: new Map<string, number>(),
    /** Symbolic links: path → the file they point at. */
    links: new Map<string, string>(),
    /** When set, a list is read (a snapshot) and then waits for it, as udevadm takes its time. */
    listing: undefined as Promise<void> | undefined,
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
      await world.listing;
      if (world.warning) result.warning = world.warning;
      return result;
    },
    // A port the OS lists has its node (until the test changes the list).
    nodeOf: (path) => {
      world.stats++;
      const target = world.links.get(path) ?? path;
      const there = world.files.has(target) || world.listed.includes(target);
      return there ? `${target}#${world.generation.get(target) ?? 0}` : undefined;
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

  describe('when the port list fails', () => {
    it('keeps discovered ports as they were while discovery throws, and reports a real disappearance once it works', async () => {
      const { watcher, world, changes, warnings } = fakeWatcher([], true);
      world.listed = ['/dev/ttyUSB0', '/dev/ttyUSB1'];
      await watcher.scan();
      world.fail = true;
      await watcher.scan();
      await watcher.scan();
      // A failed listing says nothing of the ports: reporting them gone would re-arm every slot.
      expect(changes).toEqual([
        { path: '/dev/ttyUSB0', present: true },
        { path: '/dev/ttyUSB1', present: true },
      ]);
      expect(watcher.isPresent('/dev/ttyUSB1')).toBe(true);
      expect(warnings.at(-1)).toMatch(/^Port discovery failed \(udev is gone\)/);

      world.fail = false;
      world.listed = ['/dev/ttyUSB0'];
      await watcher.scan();
      expect(changes.slice(2)).toEqual([{ path: '/dev/ttyUSB1', present: false }]);
      expect(warnings.at(-1)).toBeUndefined();
    });

    it('keeps listed ports as they were when the OS list fails with no fallback (Windows)', async () => {
      const os = { ports: ['COM7', 'COM3'], fail: false };
      const binding = {
        list: () =>
          os.fail
            ? Promise.reject(new Error('access denied'))
            : Promise.resolve(os.ports.map((path) => ({ path }))),
      } as unknown as BindingInterface;
      const watcher = new PortWatcher({
        configured: ['COM7'],
        discover: true,
        discoverPorts: (o) => discoverPorts({ ...o, binding, platform: 'win32' }),
      });
      const changes: PortChange[] = [];
      const warnings: (string | undefined)[] = [];
      watcher.onChange.on((change) => changes.push(change));
      watcher.onWarning.on((warning) => warnings.push(warning));
      await watcher.scan();
      os.fail = true;
      await watcher.scan();
      expect(changes).toEqual([
        { path: 'COM7', present: true },
        { path: 'COM3', present: true },
      ]);
      expect(warnings).toEqual([
        'The system port list failed (access denied); only configured ports are shown.',
      ]);

      os.fail = false;
      os.ports = ['COM7'];
      await watcher.scan();
      expect(changes.slice(2)).toEqual([{ path: 'COM3', present: false }]);
      expect(warnings.at(-1)).toBeUndefined();
    });
  });

  it('gives a device configured by a stable link no second slot under its listed tty name', async () => {
    const byId = '/dev/serial/by-id/usb-LS_DEMO_SIM1-if00';
    const { watcher, world, changes } = fakeWatcher([byId], true);
    world.files.add('/dev/ttyUSB0');
    world.files.add('/dev/ttyUSB1');
    world.links.set(byId, '/dev/ttyUSB0');
    world.listed = ['/dev/ttyUSB0', '/dev/ttyUSB1'];
    await watcher.scan();
    expect(changes).toEqual([
      { path: byId, present: true },
      { path: '/dev/ttyUSB1', present: true },
    ]);
    // The link goes (its device was unplugged) while the OS still lists the tty: one slot goes.
    world.links.delete(byId);
    world.listed = ['/dev/ttyUSB1'];
    await watcher.scan();
    expect(changes.slice(2)).toEqual([{ path: byId, present: false }]);
  });

  it('gives a device plugged in no slot of its own in the moment before udev makes its stable link', async () => {
    const byId = '/dev/serial/by-id/usb-LS_DEMO_SIM1-if00';
    const { watcher, world, changes } = fakeWatcher([byId], true);
    await watcher.scan();
    // Plugged in: the kernel's tty node is there and listed; udev has not made the link yet.
    world.files.add('/dev/ttyUSB0');
    world.listed = ['/dev/ttyUSB0'];
    await watcher.scan();
    expect(changes).toEqual([]);
    // udev made the link: one slot, the configured one.
    world.links.set(byId, '/dev/ttyUSB0');
    await watcher.scan();
    expect(changes).toEqual([{ path: byId, present: true }]);
    // A device no configured link leads to is reported, one poll later.
    world.files.add('/dev/ttyUSB1');
    world.listed = ['/dev/ttyUSB0', '/dev/ttyUSB1'];
    world.links.delete(byId);
    await watcher.scan();
    await watcher.scan();
    expect(changes.slice(1)).toEqual([
      { path: byId, present: false },
      { path: '/dev/ttyUSB0', present: true },
      { path: '/dev/ttyUSB1', present: true },
    ]);
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

    it('does not report a hung-up port present again while only its old node is left', async () => {
      vi.useFakeTimers();
      const { watcher, world, changes } = fakeWatcher(['/dev/ttyA', '/dev/ttyB'], false);
      world.files.add('/dev/ttyA');
      world.files.add('/dev/ttyB');
      await watcher.scan();
      watcher.hold('/dev/ttyA');
      watcher.hold('/dev/ttyB');

      // Both devices unplugged; udev has not yet removed either node when the next poll runs.
      watcher.lost('/dev/ttyA');
      watcher.lost('/dev/ttyB');
      await watcher.scan();
      expect(changes.slice(2)).toEqual([
        { path: '/dev/ttyA', present: false },
        { path: '/dev/ttyB', present: false },
      ]);

      // ttyA's node goes and the next device's comes; ttyB's next device is made under the same
      // name before any poll sees the old node go.
      world.files.delete('/dev/ttyA');
      await watcher.scan();
      world.files.add('/dev/ttyA');
      world.generation.set('/dev/ttyB', 1);
      await watcher.scan();
      expect(changes.slice(4)).toEqual([
        { path: '/dev/ttyA', present: true },
        { path: '/dev/ttyB', present: true },
      ]);

      // A node that outstays udev by far is a port whose device hung up and stayed.
      watcher.lost('/dev/ttyA');
      await watcher.scan();
      await vi.advanceTimersByTimeAsync(3000); // polls once a second meanwhile
      expect(changes.slice(6)).toEqual([
        { path: '/dev/ttyA', present: false },
        { path: '/dev/ttyA', present: true },
      ]);
    });

    // A board unplugged while the OS list was read was still on that list: its port was
    // reported present again, and auto mode started a run on a port that was gone.
    it('does not report present a port unplugged while the list was being read', async () => {
      const { watcher, world, changes } = fakeWatcher([], true);
      world.files.add('/dev/ttyUSB0');
      world.listed = ['/dev/ttyUSB0'];
      await watcher.scan();
      watcher.hold('/dev/ttyUSB0');

      let listRead!: () => void;
      world.listing = new Promise((resolve) => (listRead = resolve));
      const polling = watcher.scan();
      await new Promise((resolve) => setImmediate(resolve));
      // The board is pulled: its node goes and the open tty hangs up, mid-list.
      world.files.delete('/dev/ttyUSB0');
      world.listed = [];
      watcher.lost('/dev/ttyUSB0');
      listRead();
      await polling;
      world.listing = undefined;
      await watcher.scan();
      expect(changes).toEqual([
        { path: '/dev/ttyUSB0', present: true },
        { path: '/dev/ttyUSB0', present: false },
      ]);
    });

    // The same race with the port configured by a stable link: the listed tty name became a
    // second slot for a device that was gone, and that slot never went away.
    it('makes no slot of the tty name of a linked port unplugged while the list was read', async () => {
      const byId = '/dev/serial/by-id/usb-LS_DEMO_SIM1-if00';
      for (const nodeLingers of [false, true]) {
        const { watcher, world, changes } = fakeWatcher([byId], true);
        world.files.add('/dev/ttyUSB0');
        world.links.set(byId, '/dev/ttyUSB0');
        world.listed = ['/dev/ttyUSB0'];
        await watcher.scan();
        watcher.hold(byId);

        let listRead!: () => void;
        world.listing = new Promise((resolve) => (listRead = resolve));
        const polling = watcher.scan();
        await new Promise((resolve) => setImmediate(resolve));
        // udev removes the link; the tty node itself may outlast it for a moment.
        world.links.delete(byId);
        world.listed = [];
        if (!nodeLingers) world.files.delete('/dev/ttyUSB0');
        watcher.lost(byId);
        listRead();
        await polling;
        expect(changes).toEqual([
          { path: byId, present: true },
          { path: byId, present: false },
        ]);
        watcher.stop();
      }
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
