/**
 * What the API needs to serve a line, and how the DEMO line is found. `station serve`,
 * `station start` and the Electron core process all take a StationFactory, so the real line
 * (profiles, store, port watch) plugs in where the DEMO line does today.
 */
import type { KeyWrapper } from '../../certs/custody/secretBox.js';
import { startDemoStation } from '../demo/demoStation.js';
import type { LineController } from '../line/lineController.js';

/** A line that is running, and how to stop it (ports closed, store flushed). */
export interface RunningStation {
  line: LineController;
  stop(): Promise<void>;
  /**
   * The station's log, for the lines its host writes about it (a refused WebSocket or message):
   * the station log file too when the station keeps one. Absent: the context's `log`.
   */
  log?: (line: string) => void;
  /**
   * `--data-dir <folder>` for the commands the UI names (the snapshot's `dataDirFlag`); absent
   * when the station's data folder is the default one, or it keeps none (the DEMO line).
   */
  dataDirFlag?: string;
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

/**
 * Why a station did not start. STATION_PORT_IN_USE, STATION_PORT_DENIED and
 * STATION_HOST_UNAVAILABLE: the UI's address could not be listened on (checked before any
 * device port opens); STATION_GROUP_KEY_MISSING: the profile's enrollment group has no key stored.
 * PROFILE_NOT_CHOSEN: the profiles file holds several products and none was named;
 * PROFILE_NOT_FOUND: the product named is none of the file's. Both are the supervisor's choice of
 * product, not a wrong data folder, which is what STATION_NOT_CONFIGURED tells them to check.
 * STATION_LINE_NOT_SAVED: the data folder named for the real line has no line saved in it (the
 * DEMO must not run in its place); STATION_ALREADY_SERVING: another station serves the folder.
 */
export type StationStartCode =
  | 'STATION_NOT_CONFIGURED'
  | 'PROFILE_NOT_CHOSEN'
  | 'PROFILE_NOT_FOUND'
  | 'STATION_LINE_INVALID'
  | 'STATION_GROUP_KEY_MISSING'
  | 'STATION_PORT_IN_USE'
  | 'STATION_PORT_DENIED'
  | 'STATION_HOST_UNAVAILABLE'
  | 'STATION_LINE_NOT_SAVED'
  | 'STATION_ALREADY_SERVING';

/** A factory that could not be loaded or started, with operator text. */
export class StationStartError extends Error {
  constructor(
    readonly code: StationStartCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'StationStartError';
  }
}

/**
 * The DEMO line's factory: simulated devices on real ttys, the DEMO CA, the Line engine and the
 * SQLite store. Imported statically so the Electron core bundle carries it too.
 */
export const demoStationFactory: StationFactory = (context) =>
  startDemoStation({ log: context.log });
