/**
 * A real line, as a supervisor configured it: the profiles file, the station's CA in its data
 * directory, the SQLite store beside it and the ports of the bench. The same Line engine as the
 * DEMO; only where things come from differs. `station serve`, `station provision` and the
 * Electron core all open a line through here.
 */
import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { openCa, type LockedCa } from '../../certs/ca/openCa.js';
import { PassphraseKeyWrapper } from '../../certs/custody/passphraseKeyWrapper.js';
import { sealedText } from '../../certs/custody/secretBox.js';
import { StationCa } from '../../certs/stationCa.js';
import type { RunningStation } from '../api/stationFactory.js';
import { StationStartError } from '../api/stationFactory.js';
import { Line } from '../line/line.js';
import { runEndedText } from '../line/runEndedText.js';
import { logSlotHoldsAndMode } from '../line/slotHoldLog.js';
import { loadProfiles } from '../profiles/loadProfiles.js';
import type { ProductProfile } from '../profiles/productProfile.js';
import { CertificateLedger } from '../store/certificateLedger.js';
import { LockWaitingLedger } from '../store/lockWaitingLedger.js';
import { LockWaitingRecorder } from '../store/lockWaitingRecorder.js';
import { interruptedRunsText } from '../store/interruptedRuns.js';
import { ProvisioningStore } from '../store/provisioningStore.js';
import {
  closeStationDatabase,
  openStationDatabase,
  walLeftText,
} from '../store/stationDatabase.js';
import { stopBlockingOnLocks } from '../store/storeLockWait.js';
import { stationPaths } from '../cli/dataDir.js';
import { dataDirFlag } from '../cli/stationCommand.js';
import { groupKeyFingerprints } from '../sync/groupKeyFingerprint.js';
import { SyncWorker } from '../sync/syncWorker.js';
import type { DpsServiceClient } from '../../dps/service/dpsServiceClient.js';
import { openStoredDpsClient } from './dpsConnection.js';
import { ekTrustText, loadEkTrust } from './ekTrust.js';
import { certificateCutNote, certificateCutNotes } from './certificateLifetimeNote.js';
import { checkGroupKeyStored, loadGroupKeySource } from './groupKeys.js';
import { noteProfileChange } from './profileChangeAtStart.js';
import { SyncLog } from './syncLog.js';
import { chooseProductByName } from '../profiles/productChoice.js';

export interface ProductionLineOptions {
  dataDir: string;
  profilesFile: string;
  /** Which profile of the file; may be left out when the file holds exactly one. */
  product?: string;
  /** Ports of the bench in slot order (`/dev/ttyUSB0`, `tcp://10.0.0.5:4001`). */
  ports: string[];
  /** Also give a slot to every serial port that appears. */
  discover: boolean;
  baudRate: number;
  mode: 'auto' | 'manual';
  /** The CA passphrase; it also seals the secrets this line creates. Never logged. */
  passphrase: string;
  log: (line: string) => void;
}

/** A line as configured (flags or a saved line), without its mode and secret. */
export type LineSelection = Omit<ProductionLineOptions, 'mode' | 'passphrase' | 'log'>;

export interface ProductionStation extends RunningStation {
  line: Line;
  ca: StationCa;
  store: ProvisioningStore;
  profile: ProductProfile;
  /** Drains the outbox to DPS; absent while no DPS connection is stored (the line runs offline). */
  sync?: SyncWorker;
}

/**
 * Picks the profile a line runs; throws PROFILE_NOT_FOUND (the name is none of the file's) or
 * PROFILE_NOT_CHOSEN (several products, none named), each naming the products there are.
 */
export function chooseProfile(profiles: ProductProfile[], product?: string): ProductProfile {
  if (product !== undefined) {
    const choice = chooseProductByName(profiles, product);
    if ('profile' in choice) return choice.profile;
    throw new StationStartError('PROFILE_NOT_FOUND', choice.problem);
  }
  if (profiles.length === 1) return profiles[0]!;
  const names = profiles.map((p) => `"${p.name}"`).join(', ');
  throw new StationStartError(
    'PROFILE_NOT_CHOSEN',
    `The profiles file holds ${profiles.length} products (${names}); choose one with --product NAME (a saved line: \`station line save --product NAME\` with its other settings again).`,
  );
}

/** What a line is set up with, before any secret. */
export type LineSetup = Pick<
  ProductionLineOptions,
  'dataDir' | 'profilesFile' | 'product' | 'ports' | 'discover'
>;

/**
 * Checks everything a line needs that is not secret (its profile, ports, a CA and the group key
 * a symmetric-key-group profile derives device keys from) and returns the profile. The commands
 * call it before they ask for the passphrase, so a mistyped profiles file is reported before the
 * supervisor types the passphrase, not after.
 */
export async function checkLineSetup(options: LineSetup): Promise<ProductProfile> {
  const profile = chooseProfile(await loadProfiles(options.profilesFile), options.product);
  if (options.ports.length === 0 && !options.discover) {
    throw new StationStartError(
      'STATION_NOT_CONFIGURED',
      'No ports to provision on: give --device PATH (repeatable) or --discover.',
    );
  }
  for (const port of options.ports) {
    try {
      // Builds the transport without opening it: only the address's form is checked.
      createTransport(port);
    } catch (err) {
      throw new StationStartError(
        'STATION_NOT_CONFIGURED',
        `The port "${port}" cannot be used: ${(err as Error).message}.`,
      );
    }
  }
  const { caDir } = stationPaths(options.dataDir);
  if (!existsSync(caDir)) {
    throw new StationStartError(
      'STATION_NOT_CONFIGURED',
      `This station has no CA in ${caDir}. A supervisor must run \`station ca init\` or \`station ca import\` first.`,
    );
  }
  checkGroupKeyStored(options.dataDir, profile);
  return profile;
}

/** How often a station asks its sync log whether a lasting problem is due a reminder. */
const SYNC_REMINDER_CHECK_MS = 60_000;

/**
 * Checks the passphrase on the CA key (kept unlocked when the profile signs), opens the store
 * and starts the line. A refusal on the way releases everything it had taken (the CA key, the derived key, the DPS
 * client, the sync worker, the database), since a locked line tries again in the same process.
 */
export async function openProductionStation(
  options: ProductionLineOptions,
): Promise<ProductionStation> {
  const profile = await checkLineSetup(options);
  const paths = stationPaths(options.dataDir);
  const wrapper = new PassphraseKeyWrapper(options.passphrase, { session: true });
  const signs = profile.attestation.mode.startsWith('x509-');
  let lockedCa: LockedCa | undefined;
  let db: Database.Database;
  try {
    lockedCa = await openCa(paths.caDir);
    // Unsealing the CA key checks the passphrase, which seals every device secret of the run: a
    // mistyped one must stop the station here, whatever the mode, not seal keys under it that
    // no later start could open. It comes before the database, whose opening checks every page
    // (about a second per 100,000 devices): a wrong guess at a locked line costs the unseal alone.
    // Only the X.509 modes sign, so the others lock the CA again.
    await lockedCa.unlock(wrapper);
    if (!signs) lockedCa.lock();
    // A line writes at every device: a file it may only read is refused here, not at the first PASS.
    db = openStationDatabase(paths.database, { requireWritable: true });
  } catch (err) {
    lockedCa?.lock();
    await wrapper.forget();
    throw err;
  }
  /** What the start has taken so far: released on a refusal, and at the stop. */
  const taken: {
    ca?: StationCa;
    dps?: DpsServiceClient | undefined;
    sync?: SyncWorker | undefined;
    reminders?: NodeJS.Timeout;
    line?: Line;
  } = {};
  const release = async (): Promise<void> => {
    const steps = [
      () => taken.line?.stop(),
      () => clearInterval(taken.reminders),
      // A call in flight would hold the stop for up to its 30 s timeout (a network that drops
      // packets): the connection goes at once, and its rows, their outcome unknown, are read
      // back from DPS at the next start.
      async () => {
        const stopping = taken.sync?.stop();
        taken.dps?.close();
        await stopping;
      },
      () => taken.ca?.lock(),
      () => wrapper.forget(),
    ];
    // Every step runs whatever an earlier one did: the CA key and the derived key must go.
    let first: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  };
  try {
    const ca = (taken.ca = new StationCa(
      lockedCa,
      new LockWaitingLedger(new CertificateLedger(db)),
    ));
    const store = new ProvisioningStore(db);
    const secrets = sealedText(wrapper);
    const dps = (taken.dps = await openStoredDpsClient(options.dataDir, wrapper));
    const groupKey =
      profile.attestation.mode === 'symmetric-key-group'
        ? await loadGroupKeySource(options.dataDir, wrapper)
        : undefined;
    const ekTrust =
      profile.attestation.mode === 'tpm' ? await loadEkTrust(options.dataDir) : undefined;
    if (ekTrust) options.log(ekTrustText(ekTrust));
    // After every step that can refuse but the port watch's start (the ports' addresses were
    // checked with the setup): a start refused after this would leave its retry no interrupted
    // run to name.
    const interrupted = store.closeInterruptedRuns();
    const interruptedText = interruptedRunsText(interrupted);
    if (interruptedText !== undefined) options.log(interruptedText);
    noteProfileChange(db, profile, options.log);
    // From here on the connection shares its thread with every port and the UI: a lock another
    // program holds is waited out on a timer at the writes (the ledger's and the recorder's
    // lock-waiting decorators, storeLockWait.ts), not inside SQLite.
    stopBlockingOnLocks(db);
    const line = (taken.line = new Line({
      profile,
      ca,
      recorder: new LockWaitingRecorder(store),
      ports: { configured: options.ports, discover: options.discover, baudRate: options.baudRate },
      mode: options.mode,
      demo: false,
      sealSecret: secrets.seal,
      log: options.log,
      ...(groupKey && { groupKey }),
      ...(ekTrust && { ekTrust: ekTrust.trust }),
      ...(dps && { dpsClockOffsetMs: () => dps.clockOffsetMs() }),
      // The UI says it too, for as long as the CA cuts the certificates (the start logs it once).
      ...(signs && {
        hostNotes: certificateCutNotes(() => ca.status(), {
          profile: profile.name,
          validityDays: profile.certificate.validityDays,
        }),
      }),
      // Only ports this line may see again: another host's port, or one no longer configured
      // on a line that does not discover, would keep the note up for good.
      interruptedRuns: interrupted.closed.filter(
        (run) => run.thisHost && (options.discover || options.ports.includes(run.port)),
      ),
    }));
    line.onRunEnded.on((ended) => options.log(runEndedText(ended, { runId: true })));
    logSlotHoldsAndMode(line, options.log);
    const sync = (taken.sync = dps
      ? new SyncWorker({
          db,
          dps,
          openSecret: secrets.open,
          // Group members are synced once DPS shows their group with the key stored here.
          groupKeys: groupKeyFingerprints(groupKey ?? loadGroupKeySource(options.dataDir, wrapper)),
        })
      : undefined);
    if (sync) {
      line.attachSync(sync);
      const syncLog = new SyncLog(options.dataDir);
      sync.onStateChange.on((change) => {
        const { lastError, heldUntil } = sync.status();
        const text = syncLog.line(change, lastError, heldUntil);
        if (text !== undefined) options.log(text);
      });
      // Rows a batch settled as conflict or failed wait for a supervisor: the log says which.
      sync.onTrouble.on((trouble) => {
        const text = syncLog.trouble(trouble);
        if (text !== undefined) options.log(text);
      });
      // Offline, every probe fails without a state change: the reminder needs a clock of its own.
      const reminders = setInterval(() => {
        const { state, lastError } = sync.status();
        const text = syncLog.remind(state, lastError, Date.now());
        if (text !== undefined) options.log(text);
      }, SYNC_REMINDER_CHECK_MS);
      reminders.unref();
      taken.reminders = reminders;
    }
    options.log(
      sync
        ? 'DPS sync: on (the stored DPS connection); enrollments are sent as devices pass.'
        : 'DPS sync: off (no DPS connection stored: `station sync set-connection`); the outbox keeps every enrollment.',
    );
    // After the line saying so: its first changes of state come at once.
    sync?.start();
    await line.start();
    options.log(
      `Line ready: profile "${profile.name}" (${profile.attestation.mode}), ${line.slots().length} slot(s), ${options.mode} mode, store ${paths.database}`,
    );
    // The CA cuts each certificate to its own end, silently: the supervisor hears it at each start.
    const cut = signs
      ? certificateCutNote(
          lockedCa.status(),
          { profile: profile.name, validityDays: profile.certificate.validityDays },
          new Date(),
        )
      : undefined;
    if (cut !== undefined) options.log(`Warning: ${cut}`);
    let stopped: Promise<void> | undefined;
    const flag = dataDirFlag(options.dataDir);
    return {
      line,
      ca,
      store,
      profile,
      ...(sync && { sync }),
      ...(flag !== undefined && { dataDirFlag: flag }),
      stop: () =>
        (stopped ??= (async () => {
          await release();
          const fold = closeStationDatabase(db);
          if (!fold.walFolded) options.log(walLeftText(paths.database, fold.failure));
        })()),
    };
  } catch (err) {
    await release().catch(() => undefined);
    db.close();
    throw err;
  }
}
