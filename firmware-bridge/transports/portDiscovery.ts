import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { autoDetect } from '@serialport/bindings-cpp';
import type { BindingInterface, PortInfo } from './bindingTypes.js';

/** A port the station could open. */
export interface DiscoveredPort {
  path: string;
  /** How it was found: the OS port list, a scan of /dev, or the station's configuration. */
  source: 'os' | 'scan' | 'configured';
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

export interface DiscoveryResult {
  ports: DiscoveredPort[];
  /** Which way the local ports were found. */
  method: 'os' | 'scan' | 'configured-only';
  /** Set when the OS list failed: operator-facing sentence saying why and what was done instead. */
  warning?: string;
}

export interface DiscoveryOptions {
  /** Paths from configuration (`/dev/ttyUSB3`, `COM7`, `tcp://10.0.0.5:4001`): always included. */
  configured?: readonly string[];
  binding?: BindingInterface;
  /** Overridable for tests. */
  devDir?: string;
  sysClassTtyDir?: string;
  platform?: NodeJS.Platform;
}

/** Device nodes of USB serial adapters and on-board UARTs that a line actually uses. */
const SCANNED_NAMES = /^tty(USB|ACM|AMA|XRUSB|SC|MXC|THS)\d+$/;
const LEGACY_UART = /^ttyS\d+$/;

/**
 * Lists serial ports. The OS list comes first; where it fails (on Linux it needs udev, which
 * containers and minimal images lack) the /dev scan takes over, so a line keeps working and the
 * operator is told why the list may be less detailed.
 */
export async function discoverPorts(options: DiscoveryOptions = {}): Promise<DiscoveryResult> {
  const platform = options.platform ?? process.platform;
  let ports: DiscoveredPort[] = [];
  let method: DiscoveryResult['method'];
  let warning: string | undefined;
  try {
    const binding = options.binding ?? autoDetect();
    const listed = await binding.list();
    ports = listed.map((p: PortInfo) => {
      const port: DiscoveredPort = { path: p.path, source: 'os' };
      if (p.manufacturer) port.manufacturer = p.manufacturer;
      if (p.serialNumber) port.serialNumber = p.serialNumber;
      if (p.vendorId) port.vendorId = p.vendorId;
      if (p.productId) port.productId = p.productId;
      return port;
    });
    method = 'os';
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    if (platform === 'win32' || platform === 'darwin') {
      method = 'configured-only';
      warning = `The system port list failed (${reason}); only configured ports are shown.`;
    } else {
      ports = await scanDevDirectory(
        options.devDir ?? '/dev',
        options.sysClassTtyDir ?? '/sys/class/tty',
      );
      method = 'scan';
      warning = `The system port list failed (${reason}); ports were found by scanning ${options.devDir ?? '/dev'} instead, without vendor details.`;
    }
  }
  const seen = new Set(ports.map((p) => p.path));
  for (const path of options.configured ?? []) {
    if (seen.has(path)) continue;
    seen.add(path);
    ports.push({ path, source: 'configured' });
  }
  const result: DiscoveryResult = { ports, method };
  if (warning) result.warning = warning;
  return result;
}

/** Scans a /dev-like directory for serial device nodes. */
export async function scanDevDirectory(
  devDir: string,
  sysClassTtyDir: string,
): Promise<DiscoveredPort[]> {
  let names: string[];
  try {
    names = await readdir(devDir);
  } catch {
    return [];
  }
  const found: DiscoveredPort[] = [];
  for (const name of names.sort(naturalCompare)) {
    if (
      SCANNED_NAMES.test(name) ||
      (LEGACY_UART.test(name) && (await isRealUart(sysClassTtyDir, name)))
    ) {
      found.push({ path: join(devDir, name), source: 'scan' });
    }
  }
  return found;
}

/**
 * Every PC kernel creates ttyS0..31 placeholders. The serial core reports their UART type as 0
 * (unknown) and a real port's as its chip (4 = 16550A), on every kernel. The driver link alone
 * no longer tells them apart: since Linux 6.5 each 8250 tty, placeholder or not, sits under a
 * serial-base "port" device, so its `device/driver` is `port`, never `serial8250`.
 */
async function isRealUart(sysClassTtyDir: string, name: string): Promise<boolean> {
  try {
    const type = Number((await readFile(join(sysClassTtyDir, name, 'type'), 'utf8')).trim());
    if (Number.isInteger(type)) return type !== 0;
  } catch {
    // No `type` attribute: judge by the driver, as kernels before serial-base allow.
  }
  try {
    const driver = basename(await readlink(join(sysClassTtyDir, name, 'device', 'driver')));
    if (driver !== 'serial8250') return true;
    const device = basename(await readlink(join(sysClassTtyDir, name, 'device')));
    return !device.startsWith('serial8250');
  } catch {
    return false;
  }
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
