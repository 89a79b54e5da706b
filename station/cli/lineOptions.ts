/**
 * The options that describe a real line, shared by `station serve` and `station provision`:
 * which profiles file and product, which device ports, how fast, and where the station's data
 * lives. Parsed here once so both commands read and check them the same way.
 */
import type { LineSelection } from '../production/productionStation.js';
import { resolveDataDir } from './dataDir.js';

const PROFILES_LINE = `          --profiles FILE   product profiles (JSON); with --product NAME when it holds several`;
const RATE_AND_FOLDER_LINES = `          --baud RATE       device UART rate (default 115200)
          --data-dir DIR    the station's CA and store (default $LINE_STATION_DATA or ~/.line-station)`;
const COMMON_LINES = `${RATE_AND_FOLDER_LINES}
          the CA passphrase comes from LINE_STATION_CA_PASSPHRASE, the terminal, or stdin`;

/** A line's flags without the passphrase line, for `line save`, which asks for no secret. */
export const LINE_SETUP_USAGE = `${PROFILES_LINE}
          --device PATH     a device port: /dev/ttyUSB0, COM7, tcp://10.0.0.5:4001 (repeatable)
          --discover        also provision on every serial port that appears (hot-plug)
${RATE_AND_FOLDER_LINES}`;

export const LINE_OPTIONS_USAGE = `${LINE_SETUP_USAGE}
          the CA passphrase comes from LINE_STATION_CA_PASSPHRASE, the terminal, or stdin`;

/** The same options for `provision`, which runs exactly one device and never discovers. */
export const ONE_DEVICE_OPTIONS_USAGE = `${PROFILES_LINE}
          --device PATH     the device port: /dev/ttyUSB0, COM7, tcp://10.0.0.5:4001
${COMMON_LINES}`;

export const lineParseOptions = {
  profiles: { type: 'string' },
  product: { type: 'string' },
  device: { type: 'string', multiple: true },
  discover: { type: 'boolean', default: false },
  // No parse default: a --baud typed next to a saved line must be seen, to be refused.
  baud: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export interface LineFlags {
  profiles?: string;
  product?: string;
  device?: string[];
  discover?: boolean;
  baud?: string;
  'data-dir'?: string;
}

export type { LineSelection } from '../production/productionStation.js';

/** Checks the flags; returns the selection or a usage message naming the flag. */
export function lineSelection(flags: LineFlags): LineSelection | string {
  if (!flags.profiles) return '--profiles FILE is required (the product profiles of this line)';
  const baudRate = Number(flags.baud ?? '115200');
  if (!/^\d+$/.test(flags.baud ?? '115200') || baudRate < 300 || baudRate > 10_000_000) {
    return '--baud must be a whole number from 300 to 10000000';
  }
  const ports = flags.device ?? [];
  // A blank path would be tried as a port all the same, and recorded as a FAIL run.
  if (ports.some((port) => port.trim() === '')) {
    return '--device needs a port path such as /dev/ttyUSB0 or tcp://10.0.0.5:4001, not an empty one';
  }
  if (ports.length === 0 && !flags.discover) {
    return 'give at least one --device PATH, or --discover';
  }
  if (new Set(ports).size !== ports.length) return 'a --device is given twice';
  return {
    profilesFile: flags.profiles,
    ...(flags.product !== undefined && { product: flags.product }),
    ports,
    discover: flags.discover ?? false,
    baudRate,
    dataDir: resolveDataDir(flags['data-dir']),
  };
}
