/**
 * Supervises the station core: forks it as a utilityProcess, answers its key-store requests,
 * hands it one MessagePort per window, and restarts it with backoff when it crashes. Main stays a
 * broker: no provisioning logic here.
 */
import {
  MessageChannelMain,
  utilityProcess,
  type MessagePortMain,
  type SafeStorage,
  type UtilityProcess,
} from 'electron';
import { TypedEvent } from '../firmware-bridge/typedEvent.js';
import type { ApiError } from '../station/api/contract.js';
import { coreToMainSchema, type MainToCore } from '../station/api/coreProtocol.js';
import { childEnvironment } from '../station/cli/secretEnv.js';
import { answerSecretRequest, secretBackend } from './secretStorageHost.js';

/** How a core process ended. */
export interface CoreExit {
  code: number;
  /** False when main asked it to stop. */
  crashed: boolean;
  /** When it will be started again; undefined if it will not. */
  restartInMs?: number;
  /** Crashes since the core last stayed up a minute, this one included (0 when not crashed). */
  crashesInARow: number;
}

export interface CoreHostOptions {
  /** The built core entry (dist/electron/coreEntry.js). */
  entry: string;
  safeStorage: SafeStorage;
}

const FIRST_RESTART_MS = 1_000;
const MAX_RESTART_MS = 30_000;
/** A core that stayed up this long is healthy again: its next crash restarts it quickly. */
const HEALTHY_AFTER_MS = 60_000;
/**
 * How long a stopping core may take before it is killed. The line lets a run whose COMMIT is
 * on the wire finish and record it: COMMIT may take 10 s of flash writes, is retried twice with
 * the same id, and may first meet up to 10 s of BUSY (firmware-bridge/PROTOCOL.md §4, §6.1):
 * 40 s. Its record then waits out another program's lock on the database for up to 20 s
 * (station/store/storeLockWait.ts), and should the lock outlast that, the failure record saying
 * the device holds an unrecorded identity waits up to 20 s more: 40 + 20 + 20 = 80 s, plus 10 s
 * for the core to close. A stop cancels the waits before anything is written to a device.
 * Killing the core sooner leaves a device holding an identity the store never recorded.
 */
const STOP_GRACE_MS = 90_000;

export class CoreHost {
  readonly onReady = new TypedEvent<void>();
  readonly onExit = new TypedEvent<CoreExit>();
  /** The station cannot start (configuration, missing module): no restart would help. */
  readonly onFatal = new TypedEvent<ApiError>();
  readonly #options: CoreHostOptions;
  #child: UtilityProcess | undefined;
  #ready = false;
  #stopping = false;
  #failures = 0;
  #startedAt = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: CoreHostOptions) {
    this.#options = options;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Forks the core and tells it to start the station. Call after app `ready`. */
  start(): void {
    const child = utilityProcess.fork(this.#options.entry, [], {
      serviceName: 'Line Station core',
      stdio: 'inherit',
      // The core asks for its passphrase in the window: no secret variable of main's goes with it.
      env: childEnvironment(),
    });
    this.#child = child;
    this.#startedAt = Date.now();
    child.on('message', (data: unknown) => void this.#receive(child, data));
    child.once('exit', (code) => this.#exited(child, code));
    this.#post({ type: 'start', secretBackend: secretBackend(this.#options.safeStorage) });
  }

  /** A new channel to the core; returns the window's end, or undefined while it is down. */
  connectUi(): MessagePortMain | undefined {
    if (!this.#ready || !this.#child) return undefined;
    const { port1, port2 } = new MessageChannelMain();
    this.#post({ type: 'connect-ui' }, [port1]);
    return port2;
  }

  /** Asks the core to stop the line cleanly, then ends the process. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child) return;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
    const grace = new Promise<boolean>((resolve) => {
      graceTimer = setTimeout(() => resolve(false), STOP_GRACE_MS);
    });
    this.#post({ type: 'stop' });
    const clean = await Promise.race([exited, grace]);
    clearTimeout(graceTimer);
    if (!clean) child.kill();
  }

  #post(message: MainToCore, transfer: MessagePortMain[] = []): void {
    this.#child?.postMessage(message, transfer);
  }

  async #receive(child: UtilityProcess, data: unknown): Promise<void> {
    const parsed = coreToMainSchema.safeParse(data);
    if (!parsed.success || child !== this.#child) return;
    const message = parsed.data;
    switch (message.type) {
      case 'ready':
        this.#ready = true;
        return this.onReady.emit();
      case 'fatal':
        return this.onFatal.emit(message.error);
      case 'stopped':
        return;
      case 'secret-request': {
        const answer = await answerSecretRequest(this.#options.safeStorage, message);
        // A core that crashed meanwhile is gone; its successor numbers its requests from 1 too,
        // so the answer must not reach it.
        if (child === this.#child) this.#post(answer);
        return;
      }
    }
  }

  #exited(child: UtilityProcess, code: number): void {
    if (child !== this.#child) return;
    this.#child = undefined;
    this.#ready = false;
    if (this.#stopping) return this.onExit.emit({ code, crashed: false, crashesInARow: 0 });
    if (Date.now() - this.#startedAt >= HEALTHY_AFTER_MS) this.#failures = 0;
    const restartInMs = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** this.#failures++);
    this.onExit.emit({ code, crashed: true, restartInMs, crashesInARow: this.#failures });
    this.#restartTimer = setTimeout(() => this.start(), restartInMs);
  }
}
