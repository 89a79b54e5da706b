import type { StationCa } from '../../certs/stationCa.js';
import type { EkTrustStore } from '../../certs/tpm/ekTrustStore.js';
import type { SessionOptions } from '../../firmware-bridge/session/deviceSession.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import type { GroupKeySource, SealSecret } from './attestation/attestor.js';
import type { CutOffRun } from './interruptedPortsNote.js';
import type { RunRecorder } from './runRecorder.js';

/** What a Line (line.ts) is made of: its product, CA, store, ports and mode. */
export interface LineOptions {
  profile: ProductProfile;
  /** Unlocked for X.509 modes; a locked CA fails each X.509 run with CA_LOCKED. */
  ca: StationCa;
  recorder: RunRecorder;
  ports: {
    /** `/dev/ttyUSB3`, `COM7`, `tcp://10.0.0.5:4001`: get slots 1..n in this order. */
    configured: string[];
    /** Also give a slot to every serial port discovery finds (hot-plug). */
    discover: boolean;
    /** UART rate of the devices; 0 for links without a UART (ptys in tests). */
    baudRate: number;
    /** How often ports are polled for hot-plug; default 1000 ms. */
    pollMs?: number;
    /**
     * How long after the start a configured local path never seen yet is named in the notes
     * as missing (MissingPortsNote); default MISSING_PORT_NOTE_MS.
     */
    missingAfterMs?: number;
  };
  mode: 'auto' | 'manual';
  /** The DEMO line: simulated devices, DEMO CA, DEMO DPS settings. */
  demo: boolean;
  sealSecret: SealSecret;
  /** Required by symmetric-key-group profiles. */
  groupKey?: GroupKeySource;
  /** The TPM vendor CAs EK certificates must chain to; required by tpm profiles. */
  ekTrust?: EkTrustStore;
  /** Session tuning (timeouts, retries); `baudRate` comes from `ports`. */
  sessionOptions?: SessionOptions;
  /** DPS's clock minus this station's, as the sync's DPS client last saw it (clockNote.ts). */
  dpsClockOffsetMs?: () => number | undefined;
  /**
   * Notes the host knows and the line cannot (the CA cutting certificates short,
   * certificateLifetimeNote.ts): asked at each status, so they follow the clock.
   */
  hostNotes?: () => readonly string[];
  /** Runs the last stop cut off (closed at this start): noted until a run on their port. */
  interruptedRuns?: readonly CutOffRun[];
  /** The station log (operator text, no secrets), for what the line finds by itself. */
  log?: (line: string) => void;
  /**
   * How often the line looks whether another process changed the outbox (OutboxFeed); default
   * OUTBOX_REFRESH_MS.
   */
  outboxRefreshMs?: number;
}
