/**
 * `npm run bench -- wire`: one full X.509 device-key provisioning exchange (INFO, SET_CONFIG,
 * GEN_KEY_CSR, PUT_CERT_CHAIN with a 2-certificate chain, SIGN_CHALLENGE, COMMIT) between the
 * station and a simulated device on a real pty at 115200 baud, against its physical floor: the
 * time the bytes alone need on a 115200 8N1 line plus the device latencies the simulator applied.
 */
import { parseArgs } from 'node:util';
import type { StationCa } from '../../certs/stationCa.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { uartMs } from '../../firmware-bridge/simulator/linkPacer.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createDemoCa } from '../../station/demo/demoCa.js';
import { provisionX509DeviceKey } from '../../station/line/provisionX509DeviceKey.js';
import { printTable } from './table.js';

const BAUD = 115_200;

interface ExchangeSample {
  exchangeMs: number;
  floorMs: number;
  bytesOnWire: number;
  payloadBytes: number;
  deviceMs: number;
  requests: string[];
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { runs: { type: 'string', default: '7' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

  const demoCa = await createDemoCa('Line Station BENCH');
  const ca = demoCa.ca;
  const simulator = await Simulator.start({ devices: 1, link: 'pty', baudRate: BAUD });
  const device = simulator.devices[0]!;
  const session = await DeviceSession.open(
    // The transport the station itself opens for a local port.
    createTransport(device.hostPath, { baudRate: BAUD }),
    {
      baudRate: BAUD,
    },
  );
  const samples: ExchangeSample[] = [];
  try {
    // One warm-up exchange: JIT and first-use crypto setup are not part of the wire.
    for (let i = 0; i < runs + 1; i++) {
      const sample = await measureExchange(session, device, ca);
      if (i > 0) samples.push(sample);
    }
  } finally {
    await session.close();
    await simulator.stop();
    await demoCa.dispose();
  }

  const median = samples
    .slice()
    .sort((a, b) => a.exchangeMs / a.floorMs - b.exchangeMs / b.floorMs)[
    Math.floor(samples.length / 2)
  ]!;
  printTable(
    ['run', 'exchange ms', 'floor ms', 'ratio', 'bytes on wire', 'payload bytes', 'overhead'],
    samples.map((s, i) => [
      i + 1,
      s.exchangeMs.toFixed(1),
      s.floorMs.toFixed(1),
      (s.exchangeMs / s.floorMs).toFixed(3),
      s.bytesOnWire,
      s.payloadBytes,
      (s.bytesOnWire / s.payloadBytes).toFixed(3),
    ]),
  );
  console.log('');
  console.log(`requests: ${median.requests.join(', ')}`);
  console.log(
    `floor = ${median.bytesOnWire} bytes x 10 bits / ${BAUD} baud (${uartMs(median.bytesOnWire, BAUD).toFixed(1)} ms)` +
      ` + device latencies (${median.deviceMs.toFixed(1)} ms); median run shown below`,
  );
  console.log(
    JSON.stringify({
      suite: 'wire',
      bytesOnWire: median.bytesOnWire,
      payloadBytes: median.payloadBytes,
      overhead: round(median.bytesOnWire / median.payloadBytes, 4),
      exchangeMs115200: round(median.exchangeMs, 1),
      floorMs115200: round(median.floorMs, 1),
      ratioToFloor: round(median.exchangeMs / median.floorMs, 4),
      runs: samples.length,
    }),
  );
}

async function measureExchange(
  session: DeviceSession,
  device: Simulator['devices'][number],
  ca: StationCa,
): Promise<ExchangeSample> {
  const before = { ...session.stats };
  const requests: string[] = [];
  let deviceMs = 0;
  const dispose = device.onRequest.on((event) => {
    requests.push(event.name);
    deviceMs += event.deviceMs;
  });
  const started = performance.now();
  await provisionX509DeviceKey(session, {
    globalEndpoint: 'global.azure-devices-provisioning.net',
    idScope: '0ne00BENCH1',
    registrationIdFor: (info) => `bench-${info.serialNumber.toLowerCase()}`,
    issueCertificate: (csr, registrationId) => ca.issueFromCsr(csr, { registrationId }),
    readBack: false,
  });
  const exchangeMs = performance.now() - started;
  dispose();
  const bytesOnWire =
    session.stats.bytesWritten - before.bytesWritten + (session.stats.bytesRead - before.bytesRead);
  const payloadBytes =
    session.stats.payloadBytesSent -
    before.payloadBytesSent +
    (session.stats.payloadBytesReceived - before.payloadBytesReceived);
  return {
    exchangeMs,
    floorMs: uartMs(bytesOnWire, BAUD) + deviceMs,
    bytesOnWire,
    payloadBytes,
    deviceMs,
    requests,
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
