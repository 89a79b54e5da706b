import { randomBytes } from 'node:crypto';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealedText } from '../../certs/custody/secretBox.js';
import { Simulator } from '../../firmware-bridge/simulator/simulator.js';
import type { GroupKeySource } from '../line/attestation/attestor.js';
import { Line } from '../line/line.js';
import type { RunRecorder } from '../line/runRecorder.js';
import { runEndedText } from '../line/runEndedText.js';
import { demoProfile } from '../profiles/demoProfile.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import { createDemoCa, type DemoCa } from './demoCa.js';
import { startDemoDps, type DemoDps } from './demoDps.js';

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
  /**
   * Default true (unless a `recorder` is given): run the local DPS emulator, sync the outbox to
   * it and let each synced device register, as the field would.
   */
  dps?: boolean;
}

/** A running DEMO station: every part is reachable for the CLI, the API and tests. */
export interface DemoStation {
  line: Line;
  simulator: Simulator;
  ca: DemoCa;
  recorder: RunRecorder;
  profile: ProductProfile;
  /** The local DPS, its sync worker and the field registrations (absent with `dps: false`). */
  dps?: DemoDps;
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
  let profile = options.profile ?? demoProfile();
  const log = options.log ?? (() => undefined);
  const ca = await createDemoCa();
  const store = options.recorder ? undefined : new ProvisioningStore(ca.db);
  const recorder = options.recorder ?? store!;
  // The DEMO's secrets are sealed under a random passphrase that lives only in this process.
  const custody = sealedText(
    new PassphraseKeyWrapper(randomBytes(24).toString('base64'), { session: true }),
  );
  let simulator: Simulator | undefined;
  let dps: DemoDps | undefined;
  try {
    log(`DEMO CA ready: ${ca.ca.status().subject} (a throw-away CA for this run only)`);
    simulator = await Simulator.start({
      devices: options.devices ?? 8,
      link: options.link ?? 'pty',
      baudRate,
      model: profile.models[0] ?? 'LS-DEMO-1',
    });
    if (store && options.dps !== false) {
      dps = await startDemoDps({
        db: ca.db,
        store,
        simulator,
        caChainDer: ca.ca.chain(),
        idScope: profile.dps.idScope,
        openSecret: custody.open,
        log,
      });
      // The devices are told to find DPS where the DEMO's local DPS listens.
      profile = { ...profile, dps: { ...profile.dps, globalEndpoint: dps.emulator.hostName } };
      log(
        `DEMO DPS: the local DPS emulator on ${dps.emulator.hostName}, ID scope ${dps.emulator.idScope}`,
      );
    }
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
      sealSecret: custody.seal,
      groupKey: demoGroupKey(),
    });
    log(
      `DEMO line: ${simulator.devices.length} simulated devices, profile "${profile.name}", ${options.mode ?? 'auto'} mode`,
    );
    // The DEMO's runs live in memory: no run id to look up afterwards.
    line.onRunEnded.on((ended) => log(runEndedText(ended, { runId: false })));
    if (dps) {
      const { sync, onFieldRegistration } = dps;
      line.attachSync(sync);
      onFieldRegistration.on(({ registrationId, result }) => {
        if (result) line.deviceRegistered(registrationId, result.assignedHub);
      });
      sync.start();
    }
    await line.start();
    const running = simulator;
    const cloud = dps;
    let stopped: Promise<void> | undefined;
    return {
      line,
      simulator: running,
      ca,
      recorder,
      profile,
      ...(cloud && { dps: cloud }),
      stop: () =>
        (stopped ??= (async () => {
          await line.stop();
          await cloud?.stop();
          await running.stop();
          await ca.dispose();
        })()),
    };
  } catch (err) {
    await dps?.stop();
    await simulator?.stop();
    await ca.dispose();
    throw err;
  }
}

function demoGroupKey(): GroupKeySource {
  const key = randomBytes(32);
  return async () => new Uint8Array(key);
}
