import { parseStationArgs } from './stationArgs.js';
import { runDemoLine } from '../demo/demoLine.js';

export const DEMO_USAGE = `  demo    Provision simulated devices on real ttys through the full X.509 device-key
          exchange (DEMO CA, DEMO DPS settings) and print the result of each slot.
          --devices N   simulated devices, 1..64 (default 8)
          --tcp         serve the devices over TCP (like a serial device server) instead of ptys
          --baud RATE   simulated line speed (default 115200)`;

/** `station demo`: the DEMO line in the terminal, each slot's result printed, no UI. */
export async function demo(args: string[]): Promise<number> {
  const { values } = parseStationArgs({
    args,
    options: {
      devices: { type: 'string', default: '8' },
      tcp: { type: 'boolean', default: false },
      baud: { type: 'string', default: '115200' },
    },
  });
  const devices = Number(values.devices);
  const baudRate = Number(values.baud);
  if (!Number.isInteger(devices) || devices < 1 || devices > 64) {
    console.error('station demo: --devices must be a whole number from 1 to 64');
    return 2;
  }
  if (!Number.isInteger(baudRate) || baudRate < 300) {
    console.error('station demo: --baud must be a whole number of at least 300');
    return 2;
  }
  console.log('Line Station — DEMO line (simulated devices, DEMO CA, DEMO DPS settings)');
  console.log(
    'Results print in this terminal; `npm start` (or `station serve --demo`) shows the same line in the station UI.',
  );
  const results = await runDemoLine({
    devices,
    link: values.tcp ? 'tcp' : 'pty',
    baudRate,
    log: console.log,
  });
  const passed = results.filter((r) => r.passed).length;
  console.log('');
  console.log('slot  result  registration ID                  seconds  port');
  for (const r of results) {
    console.log(
      `${String(r.slot).padStart(4)}  ${r.passed ? 'PASS  ' : 'FAIL  '}  ${(r.registrationId ?? r.error?.code ?? '').padEnd(31)}  ${(r.ms / 1000).toFixed(2).padStart(7)}  ${r.port}`,
    );
  }
  console.log(
    `\n${passed} of ${results.length} devices passed (DEMO: nothing was sent to a real DPS).`,
  );
  return passed === results.length ? 0 : 1;
}
