import type { StationCa } from '../../certs/stationCa.js';
import { WireError } from '../../firmware-bridge/codec/wireErrors.js';
import { DeviceSession } from '../../firmware-bridge/session/deviceSession.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { provisionX509DeviceKey, type X509DeviceKeyStep } from '../line/provisionX509DeviceKey.js';
import { renderRegistrationId } from '../line/registrationId.js';
import { createDemoCa } from './demoCa.js';

export interface DemoLineOptions {
  devices: number;
  link: 'pty' | 'tcp';
  baudRate: number;
  /** Where progress lines go; the CLI passes console.log. */
  log: (line: string) => void;
}

export interface DemoSlotResult {
  slot: number;
  port: string;
  serialNumber?: string;
  registrationId?: string;
  passed: boolean;
  ms: number;
  error?: { code: string; message: string; detail?: string };
}

/** Settings of the DEMO product: the public DPS endpoint and a scope marked as a demo value. */
export const DEMO_DPS = {
  globalEndpoint: 'global.azure-devices-provisioning.net',
  idScope: '0ne00DEMO00',
  registrationIdTemplate: '{model}-{serial}',
};

/**
 * The DEMO line: simulated devices on real ttys, a DEMO CA held in memory, every device taken
 * through the X.509 device-key flow in parallel. Each slot runs on its own; one failing device
 * never holds up another.
 */
export async function runDemoLine(options: DemoLineOptions): Promise<DemoSlotResult[]> {
  const { log } = options;
  const demoCa = await createDemoCa();
  const ca = demoCa.ca;
  log(`DEMO CA ready: ${ca.status().subject} (a throw-away CA for this run only)`);
  let simulator: Simulator | undefined;
  try {
    simulator = await Simulator.start({
      devices: options.devices,
      link: options.link,
      baudRate: options.baudRate,
    });
    log(
      `${options.devices} simulated devices on ${options.link === 'pty' ? 'real ttys (socat)' : 'TCP'} at ${options.baudRate} baud`,
    );
    return await Promise.all(
      simulator.devices.map((device, index) =>
        runSlot(index + 1, device.hostPath, options, ca, log),
      ),
    );
  } finally {
    await simulator?.stop();
    await demoCa.dispose();
  }
}

async function runSlot(
  slot: number,
  port: string,
  options: DemoLineOptions,
  ca: StationCa,
  log: (line: string) => void,
): Promise<DemoSlotResult> {
  const started = performance.now();
  const label = `slot ${String(slot).padStart(2)} ${port}`;
  let session: DeviceSession | undefined;
  try {
    session = await DeviceSession.open(createTransport(port, { baudRate: options.baudRate }), {
      baudRate: options.baudRate,
    });
    const result = await provisionX509DeviceKey(
      session,
      {
        globalEndpoint: DEMO_DPS.globalEndpoint,
        idScope: DEMO_DPS.idScope,
        registrationIdFor: (info) =>
          renderRegistrationId(
            DEMO_DPS.registrationIdTemplate,
            { model: info.model, serial: info.serialNumber },
            { x509: true },
          ),
        issueCertificate: (csr, registrationId) => ca.issueFromCsr(csr, { registrationId }),
      },
      { onStep: (step: X509DeviceKeyStep) => log(`${label}  ${step}`) },
    );
    const ms = performance.now() - started;
    log(`${label}  PASS  ${result.registrationId}  ${(ms / 1000).toFixed(2)} s`);
    return {
      slot,
      port,
      serialNumber: result.info.serialNumber,
      registrationId: result.registrationId,
      passed: true,
      ms,
    };
  } catch (err) {
    const ms = performance.now() - started;
    const error = describeError(err);
    log(`${label}  FAIL  ${error.code}: ${error.message}`);
    return { slot, port, passed: false, ms, error };
  } finally {
    await session?.close().catch(() => undefined);
  }
}

function describeError(err: unknown): { code: string; message: string; detail?: string } {
  if (err instanceof WireError) return err.toJSON();
  const coded = err as { code?: unknown; message?: unknown; detail?: unknown };
  if (typeof coded.code === 'string' && typeof coded.message === 'string') {
    return typeof coded.detail === 'string'
      ? { code: coded.code, message: coded.message, detail: coded.detail }
      : { code: coded.code, message: coded.message };
  }
  return {
    code: 'STATION_INTERNAL',
    message: 'The station hit an unexpected error; see the log.',
    detail: String(err),
  };
}
