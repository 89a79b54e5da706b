/**
 * What the API needs to serve a line, and how the DEMO line is found. `station serve`,
 * `station start` and the Electron core process all take a StationFactory, so the real line
 * (profiles, store, port watch) plugs in where the DEMO line does today.
 */
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import type { LineController } from '../line/lineController.js';

/** A line that is running, and how to stop it (ports closed, store flushed). */
export interface RunningStation {
  line: LineController;
  stop(): Promise<void>;
}

/** What the host offers the station it starts. */
export interface StationContext {
  /**
   * The OS key store (Electron safeStorage, relayed by the shell) for unlocking the CA without a
   * passphrase; absent when headless.
   */
  osKeyWrapper?: KeyWrapper;
  /** Operator-facing log lines (no secrets). */
  log: (line: string) => void;
}

export type StationFactory = (context: StationContext) => Promise<RunningStation>;

/** A factory that could not be loaded or started, with operator text. */
export class StationStartError extends Error {
  constructor(
    readonly code: 'DEMO_STATION_MISSING' | 'STATION_NOT_CONFIGURED',
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'StationStartError';
  }
}

/** The module that builds the DEMO line: simulated devices, DEMO CA, the Line engine. */
const DEMO_STATION_MODULE = '../demo/demoStation.js';

interface DemoStationModule {
  startDemoStation?: (options?: { log?: (line: string) => void }) => Promise<RunningStation>;
}

/**
 * The DEMO line's factory, loaded on first use. The specifier is a variable on purpose: the
 * DEMO station module is written separately, and until it exists this must fail with a clear
 * message at run time rather than stop the whole repository from type-checking.
 * TODO: once station/demo/demoStation.ts exists, import it statically here.
 */
export const demoStationFactory: StationFactory = async (context) => {
  let loaded: DemoStationModule;
  try {
    loaded = (await import(/* @vite-ignore */ DEMO_STATION_MODULE)) as DemoStationModule;
  } catch (err) {
    throw new StationStartError(
      'DEMO_STATION_MISSING',
      'The DEMO line is not part of this build yet (station/demo/demoStation.ts is missing).',
      err instanceof Error ? err.message : String(err),
    );
  }
  if (typeof loaded.startDemoStation !== 'function') {
    throw new StationStartError(
      'DEMO_STATION_MISSING',
      'station/demo/demoStation.ts does not export startDemoStation().',
    );
  }
  return loaded.startDemoStation({ log: context.log });
};
