/**
 * A built core entry running in plain Node, with the test playing Electron main: the child gets
 * `process.parentPort` from fakeParentPort.js, which relays it (and one window's MessagePort)
 * over the IPC channel of `fork`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MessagePipe } from '../../station/api/contract.js';
import type { CoreToMain, MainToCore } from '../../station/api/coreProtocol.js';

const PRELOAD = fileURLToPath(new URL('./fakeParentPort.js', import.meta.url));

/** What the preload relays (see fakeParentPort.js). */
type Relayed = { parent?: unknown; ui?: unknown; uiClosed?: boolean };

/** Rejects with `what` and the child's output if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export class CoreChild {
  readonly child: ChildProcess;
  /** Messages posted to main, in order, not yet taken by next(). */
  readonly #inbox: CoreToMain[] = [];
  #output = '';
  /** Resolves with the exit code (or signal) once the process has ended and its pipes closed. */
  readonly closed: Promise<number | string>;

  /** Starts `entry` (a built coreEntry.js) with the environment given. */
  constructor(entry: string, env: NodeJS.ProcessEnv) {
    this.child = fork(entry, [], {
      execArgv: ['--import', PRELOAD],
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const collect = (chunk: Buffer): void => void (this.#output += chunk.toString());
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.child.on('message', (message: Relayed) => {
      if (message.parent !== undefined) this.#inbox.push(message.parent as CoreToMain);
    });
    this.closed = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
    );
  }

  /** Everything the core printed so far. */
  output(): string {
    return this.#output;
  }

  /** Posts to the core's parent port, as main does. */
  post(message: MainToCore): void {
    this.child.send({ parent: message });
  }

  /** The next message the core posts to main, within `ms`. */
  async next(ms: number): Promise<CoreToMain> {
    const arrived = new Promise<CoreToMain>((resolve) => {
      const take = (): void => {
        const message = this.#inbox.shift();
        if (message) return resolve(message);
        this.child.once('message', () => setImmediate(take));
      };
      take();
    });
    return within(arrived, ms, () => `the core posted nothing in ${ms} ms:\n${this.#output}`);
  }

  /** Resolves with how the process ended, within `ms`. */
  async ended(ms: number): Promise<number | string> {
    return within(this.closed, ms, () => `the core did not exit in ${ms} ms:\n${this.#output}`);
  }

  /**
   * Hands the core a window port (`connect-ui`) and returns the window's end as a MessagePipe
   * for StationClient, as the preload gives the renderer.
   */
  connectWindow(): MessagePipe {
    this.post({ type: 'connect-ui' });
    return {
      send: (data) => this.child.send({ ui: data }),
      onMessage: (listener) => {
        const handler = (message: Relayed): void => {
          if (message.ui !== undefined) listener(message.ui);
        };
        this.child.on('message', handler);
        return () => this.child.off('message', handler);
      },
      close: () => undefined,
    };
  }
}
