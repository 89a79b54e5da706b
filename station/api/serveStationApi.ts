/**
 * Serves the station API on one pipe: validates every incoming message, runs its command, sends
 * the result, and forwards the line's events until the pipe closes. Nothing a client sends can
 * throw out of here: every failure becomes an error result with a code.
 */
import {
  API_ERROR_CODES,
  MAX_COMMANDS_IN_FLIGHT,
  MAX_MESSAGE_BYTES,
  commandArgsSchemas,
  commandEnvelopeSchema,
  isCommandName,
  requestIdSchema,
  type ApiError,
  type CommandName,
  type Disposer,
  type EventMessage,
  type MessagePipe,
  type ResultMessage,
} from './contract.js';
import type { CommandHandlers, EventSource } from './commandHandlers.js';
import { clipText, fitError } from './contractFit.js';
import { codeOf, isStationCode } from './stationCode.js';
import { readWireMessage } from './wireMessage.js';

export interface ServeOptions {
  handlers: CommandHandlers;
  events: EventSource;
  maxMessageBytes?: number;
  /**
   * Where refused messages are noted (never with their content): the first one at once, then at
   * most one line per `refusalLogWindowMs` with how many were refused since.
   */
  log?: (line: string) => void;
  /** Commands this connection may have unanswered at once (default MAX_COMMANDS_IN_FLIGHT). */
  maxCommandsInFlight?: number;
  /**
   * Refused messages within one `refusalLogWindowMs` after which the station closes the pipe
   * (default MAX_REFUSED_MESSAGES).
   */
  maxRefusedMessages?: number;
  /** The window of the refusal log and of the refusals that close the pipe; default one minute. */
  refusalLogWindowMs?: number;
  /** The clock of the refusal log, for tests. */
  now?: () => number;
}

/**
 * Refused messages one connection may send within a minute before the station closes it. A UI
 * gets few (it sends what the contract allows; a burst of clicks after a stall may meet "still
 * working" now and then); a client sending garbage in a loop would otherwise cost the station a
 * parse and an answer per frame for as long as it likes.
 */
export const MAX_REFUSED_MESSAGES = 100;

/**
 * Coded errors (the line's, the CA's) pass through; anything else becomes API_COMMAND_FAILED,
 * with Node's own code (ENOENT, EACCES, ERR_…) kept in the detail: a client must never be handed
 * a code the contract does not define.
 */
export function toApiError(err: unknown): ApiError {
  const coded = stationCodedError(err);
  if (coded !== undefined) return coded;
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: API_ERROR_CODES.commandFailed,
    message: 'The station could not carry out the command. See the station log.',
    // Node's system errors start their message with the code already.
    detail: clipText(
      code === undefined || message.startsWith(code) ? message : `${code}: ${message}`,
    ),
  };
}

/** `err` as it crosses to a client when it carries a station code and text; else undefined. */
export function stationCodedError(err: unknown): ApiError | undefined {
  const coded = err as { message?: unknown; detail?: unknown } | null;
  const code = codeOf(err);
  if (code === undefined || !isStationCode(code) || typeof coded?.message !== 'string') {
    return undefined;
  }
  const error: ApiError = { code, message: coded.message };
  if (typeof coded.detail === 'string') error.detail = coded.detail;
  return fitError(error);
}

/**
 * Starts serving `pipe`; the disposer stops the events (the pipe's owner closes the pipe, except
 * after `maxRefusedMessages` refused messages within a window, when the station closes it).
 */
export function serveStationApi(pipe: MessagePipe, options: ServeOptions): Disposer {
  const limit = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const log = options.log ?? (() => {});
  const maxInFlight = options.maxCommandsInFlight ?? MAX_COMMANDS_IN_FLIGHT;
  const maxRefused = options.maxRefusedMessages ?? MAX_REFUSED_MESSAGES;
  const windowMs = options.refusalLogWindowMs ?? 60_000;
  const now = options.now ?? Date.now;
  let open = true;
  let inFlight = 0;
  // The refusal log, throttled per connection: a flood of garbage frames must not rotate the
  // station log's real history (runs, unlocks) away.
  let refused = 0;
  // Refusals within the current window (windowMs): a flood closes the pipe, while the odd burst
  // an operator's clicks make after a stall, over a shift of eight hours, does not add up to it.
  let refusedInWindow = 0;
  let windowStart = now();
  let unlogged = 0;
  let loggedAt = 0;

  const reply = (message: ResultMessage | EventMessage): void => {
    if (open) pipe.send(message);
  };
  const noteRefusal = (code: string): void => {
    refused += 1;
    const at = now();
    if (refused > 1 && at - loggedAt < windowMs) {
      unlogged += 1;
      return;
    }
    const more = unlogged > 0 ? ` (and ${unlogged} more since the last line)` : '';
    // The code only: the detail quotes what the client sent, which could forge log lines.
    log(`station api: refused a message: ${code}${more}`);
    loggedAt = at;
    unlogged = 0;
  };
  const fail = (id: number | null, error: ApiError): void => {
    if (!open) return;
    noteRefusal(error.code);
    // A refusal's detail quotes the message (zod names every unknown key): fitted to the
    // contract, or the client would drop the answer and its caller wait out the timeout.
    reply({ type: 'result', id, ok: false, error: fitError(error) });
    const at = now();
    if (at - windowStart >= windowMs) {
      windowStart = at;
      refusedInWindow = 0;
    }
    refusedInWindow += 1;
    if (refusedInWindow >= maxRefused) {
      const more = unlogged > 0 ? ` (${unlogged} of them not logged one by one)` : '';
      log(`station api: closed a connection after ${refusedInWindow} refused messages${more}`);
      unlogged = 0;
      stop();
      pipe.close();
    }
  };

  const handle = async (data: unknown): Promise<void> => {
    // A pipe that is closing (refused too often, a slow client dropped) runs nothing more.
    if (!open) return;
    const read = readWireMessage(data, limit);
    if (!read.ok) return fail(null, read.error);
    const envelope = commandEnvelopeSchema.safeParse(read.value);
    if (!envelope.success) {
      // Answer under the message's own id when it has a readable one, so the caller is not left
      // waiting for a timeout.
      const rawId = (read.value as { id?: unknown } | null)?.id;
      const id = requestIdSchema.safeParse(rawId);
      return fail(id.success ? id.data : null, {
        code: API_ERROR_CODES.badMessage,
        message: 'The station could not read the message.',
        detail: envelope.error.issues.map(describeIssue).join('; '),
      });
    }
    const { id, command, args } = envelope.data;
    if (inFlight >= maxInFlight) {
      return fail(id, {
        code: API_ERROR_CODES.tooManyCommands,
        message:
          'The station is still working on earlier commands from this connection. ' +
          'Wait for their answers, then try again.',
      });
    }
    if (!isCommandName(command)) {
      return fail(id, {
        code: API_ERROR_CODES.unknownCommand,
        message: `The station has no command "${command.slice(0, 64)}".`,
      });
    }
    const parsed = commandArgsSchemas[command].safeParse(args);
    if (!parsed.success) {
      return fail(id, {
        code: API_ERROR_CODES.badMessage,
        message: `The arguments of "${command}" are not valid.`,
        detail: parsed.error.issues.map(describeIssue).join('; '),
      });
    }
    inFlight += 1;
    try {
      const value = await run(options.handlers, command, parsed.data);
      reply({ type: 'result', id, ok: true, value });
    } catch (err) {
      const error = toApiError(err);
      // The answer tells the user to see the station log: the cause is there, not in the UI.
      if (error.code === API_ERROR_CODES.commandFailed) {
        log(`station api: ${command} failed: ${error.detail ?? error.message}`);
      }
      reply({ type: 'result', id, ok: false, error });
    } finally {
      inFlight -= 1;
    }
  };

  const stopMessages = pipe.onMessage((data) => void handle(data));
  const stopEvents = options.events((event, payload) => {
    reply({ type: 'event', event, payload } as EventMessage);
  });
  const disposers: Disposer[] = [stopMessages, stopEvents];
  function stop(): void {
    if (!open) return;
    open = false;
    for (const dispose of disposers) dispose();
    if (unlogged > 0) {
      log(`station api: refused ${unlogged} more messages before the connection closed`);
      unlogged = 0;
    }
  }
  const stopClose = pipe.onClose?.(stop);
  if (stopClose) disposers.push(stopClose);
  return stop;
}

/** Calls the handler of `command`; the schemas have already matched `args` to it. */
function run(handlers: CommandHandlers, command: CommandName, args: unknown): unknown {
  // The mapped handler type cannot be narrowed by a runtime key; the args were validated above.
  const handler = handlers[command] as (args: unknown) => unknown;
  return handler(args);
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
