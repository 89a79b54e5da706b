import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanDevDirectory } from './portDiscovery.js';

/**
 * A /dev and /sys/class/tty laid out as Linux 6.5+ does it: serial core puts a serial-base
 * "port" device between a UART's controller and its tty, so every 8250 tty, real or not, has
 * `device/driver` -> .../serial-base/drivers/port. The kernel's ttyS placeholders hang off the
 * serial8250 platform device and report UART type 0 (unknown).
 */
async function kernel65Layout(): Promise<{ dev: string; sys: string }> {
  const root = await mkdtemp(join(tmpdir(), 'ls-sysfs-'));
  const dev = join(root, 'dev');
  const sys = join(root, 'sys');
  const portDriver = join(sys, 'bus/serial-base/drivers/port');
  await mkdir(dev);
  await mkdir(portDriver, { recursive: true });
  await mkdir(join(sys, 'class/tty'), { recursive: true });
  const ports = [
    // A real 16550A on the board (PNP), and three placeholders the kernel always makes.
    { name: 'ttyS0', parent: 'devices/pnp0/00:00/00:00:0/00:00:0.0', type: '4' },
    { name: 'ttyS1', parent: 'devices/platform/serial8250/serial8250:0/serial8250:0.1', type: '0' },
    { name: 'ttyS2', parent: 'devices/platform/serial8250/serial8250:0/serial8250:0.2', type: '0' },
    { name: 'ttyS3', parent: 'devices/platform/serial8250/serial8250:0/serial8250:0.3', type: '0' },
  ];
  for (const { name, parent, type } of ports) {
    const ttyDir = join(sys, parent, 'tty', name);
    await mkdir(ttyDir, { recursive: true });
    await writeFile(join(ttyDir, 'type'), `${type}\n`);
    await symlink(join(sys, parent), join(ttyDir, 'device'));
    await symlink(portDriver, join(sys, parent, 'driver'));
    await symlink(ttyDir, join(sys, 'class/tty', name));
    await writeFile(join(dev, name), '');
  }
  return { dev, sys: join(sys, 'class/tty') };
}

describe('scanDevDirectory', () => {
  it('leaves out the ttyS placeholders of a 6.5+ kernel and keeps the real UART', async () => {
    const { dev, sys } = await kernel65Layout();
    const found = await scanDevDirectory(dev, sys);
    expect(found.map((p) => p.path)).toEqual([join(dev, 'ttyS0')]);
  });
});
