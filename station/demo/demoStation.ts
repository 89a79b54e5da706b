import { randomBytes } from 'node:crypto';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealSecret } from '../../certs/custody/secretBox.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { GroupKeySource, SealSecret } from '../line/attestation/attestor.js';
import { Line } from '../line/line.js';
import type { RunRecorder } from '../line/runRecorder.js';
import { demoProfile } from '../profiles/demoProfile.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { createDemoCa, type DemoCa } from './demoCa.js';

export interface DemoStationOptions {
  /** Simulated devices, one slot each. Default 8. */
  devices?: number;
  /** Default `pty`: real ttys, the code path of USB serial adapters. */
  link?: 'pty' | 'tcp';
  /** Default 115200. */
  baudRate?: number;
  /** Default `auto`: every simulated device is provisioned as the line starts. */
  mode?: 'auto' | 'manual';
  /** Default the DEMO profile (X.509 device key, DEMO scope). */
  profile?: ProductProfile;
  /**
   * Default the real ProvisioningStore on the DEMO CA's in-memory database (the DEMO keeps
   * nothing once it stops). A recorder given here must accept the DEMO CA's certificates.
   */
  recorder?: RunRecorder;
  /** Operator lines (no secrets): what started, and each run's result. */
  log?: (line: string) => void;
}

/** A running DEMO station: every part is reachable for the CLI, the API and tests. */
export interface DemoStation {
  line: Line;
  simulator: Simulator;
  ca: DemoCa;
  recorder: RunRecorder;
  profile: ProductProfile;
  /** Stops the line (cancelling runs), the simulated devices and the DEMO CA. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The DEMO station `npm start` runs: a Simulator with simulated devices on real ttys, the DEMO
 * CA, and a Line in auto mode on the simulator's ports (discovery off, so the DEMO never touches
 * a real serial port). Secrets are sealed under a random passphrase that lives only in this
 * process, and the DEMO group key is random per start.
 */
export async function startDemoStation(options: DemoStationOptions = {}): Promise<DemoStation> {
  const baudRate = options.baudRate ?? 115_200;
  const profile = options.profile ?? demoProfile();
  const log = options.log ?? (() => undefined);
  const ca = await createDemoCa();
  const recorder = options.recorder ?? new ProvisioningStore(ca.db);
  let simulator: Simulator | undefined;
  try {
    log(`DEMO CA ready: ${ca.ca.status().subject} (a throw-away CA for this run only)`);
    simulator = await Simulator.start({
      devices: options.devices ?? 8,
      link: options.link ?? 'pty',
      baudRate,
      model: profile.models[0] ?? 'LS-DEMO-1',
    });
    const line = new Line({
      profile,
      ca: ca.ca,
      recorder,
      ports: {
        configured: simulator.devices.map((device) => device.hostPath),
        discover: false,
        baudRate,
      },
      mode: options.mode ?? 'auto',
      demo: true,
      sealSecret: demoSealSecret(),
      groupKey: demoGroupKey(),
    });
    log(
      `DEMO line: ${simulator.devices.length} simulated devices, profile "${profile.name}", ${options.mode ?? 'auto'} mode`,
    );
    line.onRunEnded.on(({ slot, port, outcome }) =>
      log(
        outcome.state === 'pass'
          ? `slot ${slot} ${port}: PASS ${outcome.record.registrationId}`
          : `slot ${slot} ${port}: ${outcome.state.toUpperCase()} ${outcome.error.code}: ${outcome.error.message}`,
      ),
    );
    await line.start();
    const running = simulator;
    let stopped: Promise<void> | undefined;
    return {
      line,
      simulator: running,
      ca,
      recorder,
      profile,
      stop: () =>
        (stopped ??= (async () => {
          await line.stop();
          await running.stop();
          await ca.dispose();
        })()),
    };
  } catch (err) {
    await simulator?.stop();
    await ca.dispose();
    throw err;
  }
}

function demoSealSecret(): SealSecret {
  const wrapper = new PassphraseKeyWrapper(randomBytes(24).toString('base64'));
  return async (plaintext, context) =>
    JSON.stringify(await sealSecret(plaintext, wrapper, context));
}

function demoGroupKey(): GroupKeySource {
  const key = randomBytes(32);
  return async () => new Uint8Array(key);
}
