import type { CodedError } from '../line/lineTypes.js';
import type { RunEnded } from '../line/line.js';
import { startDemoStation } from './demoStation.js';

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
  error?: CodedError;
}

/**
 * One pass of the DEMO line, headless: the DEMO station (simulated devices on real ttys, DEMO
 * CA, the line engine in auto mode) provisions every device once, then stops. Each slot runs on
 * its own; one failing device never holds up another.
 */
export async function runDemoLine(options: DemoLineOptions): Promise<DemoSlotResult[]> {
  const { log } = options;
  // Manual first, so no run can end before the listeners below are in place.
  const station = await startDemoStation({
    devices: options.devices,
    link: options.link,
    baudRate: options.baudRate,
    mode: 'manual',
  });
  try {
    const { line } = station;
    log(`DEMO CA ready: ${station.ca.ca.status().subject} (a throw-away CA for this run only)`);
    log(`Profile: ${station.profile.name}`);
    log(
      `${options.devices} simulated devices on ${options.link === 'pty' ? 'real ttys (socat)' : 'TCP'} at ${options.baudRate} baud`,
    );
    const label = (slot: number, port: string) => `slot ${String(slot).padStart(2)} ${port}`;
    const lastStep = new Map<number, string>();
    line.onSlotChanged.on((view) => {
      if (view.state !== 'running' || view.step === undefined) return;
      if (lastStep.get(view.slot) === view.step) return;
      lastStep.set(view.slot, view.step);
      log(`${label(view.slot, view.port)}  ${view.step}`);
    });
    const results = new Map<number, DemoSlotResult>();
    const allEnded = new Promise<void>((resolve) => {
      line.onRunEnded.on((ended: RunEnded) => {
        const result = slotResult(ended);
        results.set(ended.slot, result);
        log(
          result.passed
            ? `${label(ended.slot, ended.port)}  PASS  ${result.registrationId}  ${(result.ms / 1000).toFixed(2)} s`
            : `${label(ended.slot, ended.port)}  FAIL  ${result.error?.code}: ${result.error?.message}`,
        );
        if (results.size === options.devices) resolve();
      });
    });
    line.setMode('auto');
    await allEnded;
    return [...results.values()].sort((a, b) => a.slot - b.slot);
  } finally {
    await station.stop();
  }
}

function slotResult(ended: RunEnded): DemoSlotResult {
  const { outcome } = ended;
  const base = { slot: ended.slot, port: ended.port, ms: ended.durationMs };
  if (outcome.state === 'pass') {
    return {
      ...base,
      passed: true,
      serialNumber: outcome.record.device.serialNumber,
      registrationId: outcome.record.registrationId,
    };
  }
  return {
    ...base,
    passed: false,
    error: outcome.error,
    ...(outcome.device && { serialNumber: outcome.device.serialNumber }),
  };
}
