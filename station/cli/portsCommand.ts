import { parseStationArgs } from './stationArgs.js';
import { discoverPorts } from '../../firmware-bridge/transports/portDiscovery.js';

export const PORTS_USAGE = `  ports   List the serial ports this station can see, and how they were found.
          --port PATH   also list a configured port (/dev/ttyUSB3, COM7, tcp://host:port)`;

/**
 * Discovery lists serial hardware (the OS list, or the /dev scan of ttyUSB, ttyACM… names); a
 * simulator's pty is on neither, as meant, and a line is given it by its path.
 */
const PTY_NOTE =
  "note: simulated devices' ptys (`station simulate`) are not listed: give each by the path simulate prints (--device /dev/pts/N).";

/** `station ports`: what the station can see, and a plain note when the OS list failed. */
export async function ports(args: string[]): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: { port: { type: 'string', multiple: true } },
  });
  const result = await discoverPorts({ configured: values.port ?? [] });
  if (result.warning) console.log(`note: ${result.warning}`);
  if (result.ports.length === 0) {
    console.log('No serial ports found. Plug a device in, or configure a port path.');
    console.log(PTY_NOTE);
    return 0;
  }
  console.log('port                          found by     details');
  for (const p of result.ports) {
    const details = [
      p.manufacturer,
      p.vendorId && `${p.vendorId}:${p.productId ?? '?'}`,
      p.serialNumber,
    ]
      .filter(Boolean)
      .join('  ');
    console.log(`${p.path.padEnd(28)}  ${p.source.padEnd(11)}  ${details}`.trimEnd());
  }
  console.log(PTY_NOTE);
  return 0;
}
