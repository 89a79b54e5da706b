/**
 * The UI side of the contract: typed commands and events over any MessagePipe, so the same
 * client runs over a WebSocket (browser, headless station) and over the MessagePort the Electron
 * preload relays. Everything the station sends is validated before the UI sees it.
 *
 * Browser-safe: imports nothing but the contract.
 */
import {
  API_ERROR_CODES,
  MAX_STATION_MESSAGE_BYTES,
  commandArgsSchemas,
  commandResultSchemas,
  stationMessageSchema,
  type ApiError,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type Disposer,
  type EventMessage,
  type EventName,
  type EventPayload,
  type MessagePipe,
  type ResultMessage,
} from './contract.js';
import { readWireMessage } from './wireMessage.js';

/** A command that failed, with the station's code and operator text. */
export class StationApiError extends Error {
  readonly code: string;
  readonly detail: string | undefined;

  constructor(error: ApiError) {
    super(error.message);
    this.name = 'StationApiError';
    this.code = error.code;
    this.detail = error.detail;
  }
}

export interface StationClientOptions {
  /** How long a command may wait for its result (default 15 s). */
  timeoutMs?: number;
  maxMessageBytes?: number;
  /** Messages from the station that break the contract; the default writes to console.error. */
  onProtocolError?: (error: ApiError) => void;
}

/** Commands whose arguments are all optional may be called without them. */
type ArgsParameter<C extends CommandName> =
  Record<string, never> extends CommandArgs<C> ? [args?: CommandArgs<C>] : [args: CommandArgs<C>];

interface Pending {
  command: CommandName;
  resolve: (value: unknown) => void;
  reject: (error: StationApiError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Request ids, shared by every client in this page or process. Under Electron the pipe outlives a
 * client (a new one is built on the same bridge after a stall), so a late answer to an old
 * client's request must not carry an id a newer client is waiting on. The contract allows ids up
 * to Number.MAX_SAFE_INTEGER; wrapping there is a formality.
 */
let lastRequestId = 0;
function nextRequestId(): number {
  lastRequestId = lastRequestId >= Number.MAX_SAFE_INTEGER ? 1 : lastRequestId + 1;
  return lastRequestId;
}

type Listeners = { [E in EventName]: Set<(payload: EventPayload<E>) => void> };

/** Talks to one station over one pipe. After the pipe closes, make a new client on a new pipe. */
export class StationClient {
  readonly #pipe: MessagePipe;
  readonly #options: Required<Omit<StationClientOptions, 'maxMessageBytes'>> & { limit: number };
  readonly #pending = new Map<number, Pending>();
  readonly #listeners: Listeners = { slot: new Set(), outbox: new Set(), status: new Set() };
  readonly #closeListeners = new Set<() => void>();
  readonly #disposers: Disposer[] = [];
  #closed = false;

  constructor(pipe: MessagePipe, options: StationClientOptions = {}) {
    this.#pipe = pipe;
    this.#options = {
      timeoutMs: options.timeoutMs ?? 15_000,
      limit: options.maxMessageBytes ?? MAX_STATION_MESSAGE_BYTES,
      onProtocolError:
        options.onProtocolError ??
        ((error) => console.error(`station api: ${error.message}`, error.detail ?? '')),
    };
    this.#disposers.push(pipe.onMessage((data) => this.#receive(data)));
    const stopClose = pipe.onClose?.(() => this.#shutdown());
    if (stopClose) this.#disposers.push(stopClose);
  }

  /** True once the pipe closed or `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a command; resolves with its typed result or rejects with a StationApiError. */
  call<C extends CommandName>(command: C, ...rest: ArgsParameter<C>): Promise<CommandResult<C>> {
    const args = rest[0] ?? {};
    if (this.#closed) return Promise.reject(disconnected());
    // Checked here too, so a UI bug fails at the caller with the schema's words.
    const parsed = commandArgsSchemas[command].safeParse(args);
    if (!parsed.success) {
      return Promise.reject(
        new StationApiError({
          code: API_ERROR_CODES.badMessage,
          message: `The arguments of "${command}" are not valid.`,
          detail: parsed.error.message,
        }),
      );
    }
    const id = nextRequestId();
    return new Promise<CommandResult<C>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new StationApiError({
            code: API_ERROR_CODES.timeout,
            message: `The station did not answer "${command}" in time.`,
          }),
        );
      }, this.#options.timeoutMs);
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.#pipe.send({ id, type: 'command', command, args: parsed.data });
    });
  }

  /** Subscribes to one event; the disposer unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): Disposer {
    const set = this.#listeners[event];
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Called once when the pipe closes (not when `close()` is called by this side). */
  onDisconnect(listener: () => void): Disposer {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Closes the pipe; pending commands reject with API_DISCONNECTED. */
  close(): void {
    this.#closeListeners.clear();
    this.#shutdown();
    this.#pipe.close();
  }

  #receive(data: unknown): void {
    const read = readWireMessage(data, this.#options.limit);
    if (!read.ok) return this.#options.onProtocolError(read.error);
    const parsed = stationMessageSchema.safeParse(read.value);
    if (!parsed.success) {
      return this.#options.onProtocolError({
        code: API_ERROR_CODES.badMessage,
        message: 'The station sent a message this UI cannot read.',
        detail: parsed.error.message,
      });
    }
    const message = parsed.data;
    if (message.type === 'event') this.#dispatch(message);
    else this.#settle(message);
  }

  #settle(message: ResultMessage): void {
    const pending = message.id === null ? undefined : this.#pending.get(message.id);
    if (!pending) {
      // A result nobody waits for: a refused message without id, or an answer after a timeout.
      if (!message.ok) this.#options.onProtocolError(message.error);
      return;
    }
    this.#pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (!message.ok) return pending.reject(new StationApiError(message.error));
    const value = commandResultSchemas[pending.command].safeParse(message.value);
    if (value.success) pending.resolve(value.data);
    else {
      pending.reject(
        new StationApiError({
          code: API_ERROR_CODES.badMessage,
          message: `The station's answer to "${pending.command}" does not match the contract.`,
          detail: value.error.message,
        }),
      );
    }
  }

  #dispatch(message: EventMessage): void {
    const listeners = this.#listeners[message.event] as Set<(payload: unknown) => void>;
    for (const listener of [...listeners]) {
      try {
        listener(message.payload);
      } catch (err) {
        // One broken view must not starve the others of events.
        console.error('station api: an event listener threw', err);
      }
    }
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const dispose of this.#disposers) dispose();
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(disconnected());
    }
    this.#pending.clear();
    for (const listener of [...this.#closeListeners]) listener();
  }
}

function disconnected(): StationApiError {
  return new StationApiError({
    code: API_ERROR_CODES.disconnected,
    message: 'The connection to the station is closed.',
  });
}
