/**
 * Serves the station API on one pipe: validates every incoming message, runs its command, sends
 * the result, and forwards the line's events until the pipe closes. Nothing a client sends can
 * throw out of here: every failure becomes an error result with a code.
 */
import {
  API_ERROR_CODES,
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
import { readWireMessage } from './wireMessage.js';

export interface ServeOptions {
  handlers: CommandHandlers;
  events: EventSource;
  maxMessageBytes?: number;
  /** Where refused messages are noted (never with their content). */
  log?: (line: string) => void;
}

/** Coded errors (the line's, the CA's) pass through; anything else becomes API_COMMAND_FAILED. */
export function toApiError(err: unknown): ApiError {
  const coded = err as { code?: unknown; message?: unknown; detail?: unknown } | null;
  if (coded && typeof coded.code === 'string' && typeof coded.message === 'string') {
    const error: ApiError = { code: coded.code, message: coded.message };
    if (typeof coded.detail === 'string') error.detail = coded.detail;
    return fitError(error);
  }
  return {
    code: API_ERROR_CODES.commandFailed,
    message: 'The station could not carry out the command. See the station log.',
    detail: clipText(err instanceof Error ? err.message : String(err)),
  };
}

/** Starts serving `pipe`; the disposer stops the events (the pipe's owner closes the pipe). */
export function serveStationApi(pipe: MessagePipe, options: ServeOptions): Disposer {
  const limit = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const log = options.log ?? (() => {});
  let open = true;

  const reply = (message: ResultMessage | EventMessage): void => {
    if (open) pipe.send(message);
  };
  const fail = (id: number | null, error: ApiError): void => {
    // The code only: the detail quotes what the client sent, which could forge log lines.
    log(`station api: refused a message: ${error.code}`);
    reply({ type: 'result', id, ok: false, error });
  };

  const handle = async (data: unknown): Promise<void> => {
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
    try {
      const value = await run(options.handlers, command, parsed.data);
      reply({ type: 'result', id, ok: true, value });
    } catch (err) {
      reply({ type: 'result', id, ok: false, error: toApiError(err) });
    }
  };

  const stopMessages = pipe.onMessage((data) => void handle(data));
  const stopEvents = options.events((event, payload) => {
    reply({ type: 'event', event, payload } as EventMessage);
  });
  const disposers: Disposer[] = [stopMessages, stopEvents];
  const stop = (): void => {
    if (!open) return;
    open = false;
    for (const dispose of disposers) dispose();
  };
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
