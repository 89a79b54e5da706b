/**
 * The station API: the ONE contract between the station core and every UI. Client→station
 * commands, station→client results and events, each a zod schema from which both ends take
 * their types (`StationClient` on the UI side, `commandHandlers` and `serveStationApi` on the
 * station side). The same messages travel over a MessagePort under Electron and a WebSocket in
 * headless mode.
 *
 * This file is imported by the sandboxed renderer, so it may import nothing but zod: no Node
 * built-ins, no other station code. `contract.types.test.ts` checks that the payload types
 * inferred here equal the line's own types (SlotView, OutboxCounts, StationStatus).
 */
import { z } from 'zod';
import { RUN_STEPS } from '../line/lineTypes.js';

/** Largest message the station accepts from a client, in UTF-8 bytes of its JSON text. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Largest message a client accepts from the station. The station is the trusted end, so this
 * only stops a runaway; it must hold the largest snapshot the contract allows (1,024 slots with
 * every text at its limit come to about 30 MB), or a full line could never be shown.
 */
export const MAX_STATION_MESSAGE_BYTES = 32 * 1024 * 1024;

/** Longest text, error code and notes list in a payload (contractFit.ts keeps the station in). */
export const MAX_TEXT_CHARS = 4096;
export const MAX_CODE_CHARS = 128;
export const MAX_NOTES = 64;

/**
 * Commands one connection may have unanswered at once; past it the station refuses new ones
 * (API_TOO_MANY_COMMANDS) rather than queue them, so one client cannot starve the line.
 */
export const MAX_COMMANDS_IN_FLIGHT = 8;

/** How many ended runs `recentRuns` lists when not told, and at most. */
export const DEFAULT_RECENT_RUNS = 20;
export const MAX_RECENT_RUNS = 100;

/** WebSocket close codes the headless station uses (private range 4000–4999). */
export const CLOSE_CODES = {
  /** The session token is missing or wrong (like HTTP 401): a new page link is needed. */
  unauthorized: 4401,
  /** The UI fell too far behind the event stream; it reconnects and takes a new snapshot. */
  tooSlow: 4408,
} as const;

/** Removes a listener; every subscription returns one. */
export type Disposer = () => void;

// --- Payloads: what the line tells the UI -----------------------------------------------------

const text = z.string().max(MAX_TEXT_CHARS);
const count = z.number().int().nonnegative();

export const slotStateSchema = z.enum(['empty', 'waiting', 'running', 'pass', 'fail', 'cancelled']);
export const runStepSchema = z.enum(RUN_STEPS);
export const lineModeSchema = z.enum(['auto', 'manual']);

/** An error as it crosses the API: stable code, operator text, detail for the log. */
export const codedErrorSchema = z.object({
  code: z.string().max(MAX_CODE_CHARS),
  message: text,
  detail: text.optional(),
});

/** One slot (one port) as the UI shows it; mirrors SlotView. */
export const slotViewSchema = z.object({
  slot: z.number().int().positive(),
  port: text,
  state: slotStateSchema,
  step: runStepSchema.optional(),
  progress: z.number().min(0).max(1),
  serialNumber: text.optional(),
  model: text.optional(),
  registrationId: text.optional(),
  runId: z.number().int().optional(),
  error: codedErrorSchema.optional(),
  registeredHub: text.optional(),
  updatedAt: z.number(),
});

/** Enrollment outbox counts by status; mirrors OutboxCounts. */
export const outboxCountsSchema = z.object({
  pending: count,
  syncing: count,
  synced: count,
  failed: count,
  conflict: count,
});

/** The outbox sync to DPS; mirrors SyncStatusView. */
export const syncStatusSchema = z.object({
  state: z.enum(['idle', 'syncing', 'backoff', 'offline', 'paused', 'stopped', 'locked']),
  connection: z.enum(['unknown', 'online', 'offline']),
  lastError: codedErrorSchema.optional(),
  heldUntil: text.optional(),
});

/** What the station says about itself (no secrets); mirrors StationStatus. */
export const stationStatusSchema = z.object({
  demo: z.boolean(),
  profile: text,
  mode: lineModeSchema,
  ca: z.object({
    locked: z.boolean(),
    subject: text,
    daysLeft: z.number(),
    unused: z.literal(true).optional(),
  }),
  notes: z.array(text).max(MAX_NOTES),
  sync: syncStatusSchema.optional(),
  today: z.object({ since: text, passed: count, failed: count, cancelled: count }).optional(),
  awaitingPassphrase: z.literal(true).optional(),
});

/** Everything a UI needs to draw the station from scratch (after connecting or reconnecting). */
export const snapshotSchema = z.object({
  status: stationStatusSchema,
  slots: z.array(slotViewSchema).max(1024),
  outbox: outboxCountsSchema,
  /**
   * Whether THIS connection may send `unlock`: the window, or a browser on the workstation's
   * loopback. A UI elsewhere shows no passphrase field at all, so the passphrase is never typed
   * where it would cross the network.
   */
  unlockHere: z.boolean(),
  /**
   * `--data-dir <folder>`, quoted for a shell, for a station whose data folder is not the default
   * one: the UI adds it to every station command it tells a supervisor to run, which would
   * otherwise read another folder's store. Absent for the default folder and the DEMO line.
   */
  dataDirFlag: text.optional(),
});

/**
 * One run that ended, as the recent-runs list shows it; mirrors RunView. Times are ISO 8601;
 * `error` (operator text, code, and detail for the log) is set for a run that did not pass.
 */
export const runViewSchema = z.object({
  runId: z.number().int().positive(),
  port: text,
  state: z.enum(['pass', 'fail', 'cancelled']),
  startedAt: text,
  finishedAt: text,
  serialNumber: text.optional(),
  model: text.optional(),
  registrationId: text.optional(),
  error: codedErrorSchema.optional(),
});

/** The answer to `recentRuns`: newest first. */
export const recentRunsSchema = z.object({
  runs: z.array(runViewSchema).max(MAX_RECENT_RUNS),
});

export type ApiError = z.infer<typeof codedErrorSchema>;
export type SlotViewPayload = z.infer<typeof slotViewSchema>;
export type OutboxCountsPayload = z.infer<typeof outboxCountsSchema>;
export type StationStatusPayload = z.infer<typeof stationStatusSchema>;
export type Snapshot = z.infer<typeof snapshotSchema>;
export type RunViewPayload = z.infer<typeof runViewSchema>;

// --- Commands: client → station ---------------------------------------------------------------

const slotArgs = z.strictObject({ slot: z.number().int().min(1).max(1024) });

/** The arguments each command takes. Unknown keys are refused, not ignored. */
export const commandArgsSchemas = {
  /** The whole picture: status, every slot, outbox counts. */
  snapshot: z.strictObject({}),
  /** `auto`: every device that appears is provisioned; `manual`: an operator starts each run. */
  setMode: z.strictObject({ mode: lineModeSchema }),
  /** Starts a run on a slot that holds a device and is not running. */
  provision: slotArgs,
  /** Cancels the run on a slot; nothing is committed. */
  cancel: slotArgs,
  /** Pauses or resumes the outbox sync to DPS, or asks it to send what is due now. */
  sync: z.strictObject({ action: z.enum(['pause', 'resume', 'now']) }),
  /** Proves the station still answers: a UI pings it so a hung station does not look live. */
  ping: z.strictObject({}),
  /**
   * Starts a line that waits for the CA passphrase (`status.awaitingPassphrase`). Accepted only
   * from the workstation itself (the window, or a browser on 127.0.0.1): the passphrase must
   * not cross a network in clear. Never logged.
   */
  unlock: z.strictObject({ passphrase: z.string().min(1).max(1024) }),
  /**
   * The latest runs that ended (pass, fail, cancelled; never one still running), newest first:
   * `limit` of them (DEFAULT_RECENT_RUNS when left out); with `failedOnly`, only those that did
   * not pass (failed or cancelled, a station stop's included): their devices need another run.
   * A line that waits for its CA passphrase lists none.
   */
  recentRuns: z.strictObject({
    limit: z.number().int().min(1).max(MAX_RECENT_RUNS).optional(),
    failedOnly: z.boolean().optional(),
  }),
} as const;

/** What each command answers with when it succeeds. */
export const commandResultSchemas = {
  snapshot: snapshotSchema,
  setMode: z.null(),
  provision: z.null(),
  cancel: z.null(),
  sync: z.null(),
  ping: z.null(),
  unlock: z.null(),
  recentRuns: recentRunsSchema,
} as const satisfies Record<keyof typeof commandArgsSchemas, z.ZodType>;

export type CommandName = keyof typeof commandArgsSchemas;
export type CommandArgs<C extends CommandName> = z.infer<(typeof commandArgsSchemas)[C]>;
export type CommandResult<C extends CommandName> = z.infer<(typeof commandResultSchemas)[C]>;

/** Correlates a result with its command; chosen by the client. */
export const requestIdSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * The envelope of every client message. `command` is checked against the command list and
 * `args` against that command's schema in a second step, so an unknown command and bad
 * arguments get different error codes.
 */
export const commandEnvelopeSchema = z.strictObject({
  id: requestIdSchema,
  type: z.literal('command'),
  command: z.string().max(64),
  args: z.unknown(),
});

/** A client→station message, typed per command. */
export type CommandMessage = {
  [C in CommandName]: { id: number; type: 'command'; command: C; args: CommandArgs<C> };
}[CommandName];

/** True when `name` is one of the commands (an own key, so `toString` is not a command). */
export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandArgsSchemas, name);
}

// --- Results and events: station → client -----------------------------------------------------

/**
 * The answer to one command. `id` is null when the station could not read the id of the
 * message it answers (not JSON, too large, no id).
 */
export const resultMessageSchema = z.discriminatedUnion('ok', [
  z.object({
    type: z.literal('result'),
    id: requestIdSchema.nullable(),
    ok: z.literal(true),
    value: z.unknown(),
  }),
  z.object({
    type: z.literal('result'),
    id: requestIdSchema.nullable(),
    ok: z.literal(false),
    error: codedErrorSchema,
  }),
]);

/** The events the station pushes to every connected UI, and their payloads. */
export const eventPayloadSchemas = {
  slot: slotViewSchema,
  outbox: outboxCountsSchema,
  status: stationStatusSchema,
} as const;

export type EventName = keyof typeof eventPayloadSchemas;
export type EventPayload<E extends EventName> = z.infer<(typeof eventPayloadSchemas)[E]>;

export const eventMessageSchema = z.discriminatedUnion('event', [
  z.object({ type: z.literal('event'), event: z.literal('slot'), payload: slotViewSchema }),
  z.object({ type: z.literal('event'), event: z.literal('outbox'), payload: outboxCountsSchema }),
  z.object({ type: z.literal('event'), event: z.literal('status'), payload: stationStatusSchema }),
]);

export const stationMessageSchema = z.union([resultMessageSchema, eventMessageSchema]);

export type ResultMessage = z.infer<typeof resultMessageSchema>;
export type EventMessage = z.infer<typeof eventMessageSchema>;
export type StationMessage = z.infer<typeof stationMessageSchema>;

/** The error codes the API itself produces; the line's own codes pass through unchanged. */
export const API_ERROR_CODES = {
  /** Not JSON, not an object, wrong envelope or bad arguments. */
  badMessage: 'API_BAD_MESSAGE',
  unknownCommand: 'API_UNKNOWN_COMMAND',
  tooLarge: 'API_MESSAGE_TOO_LARGE',
  /** The command threw something that was not a coded error. */
  commandFailed: 'API_COMMAND_FAILED',
  /**
   * The connection already has MAX_COMMANDS_IN_FLIGHT commands the station has not answered
   * yet; the command was not run. A UI never comes near it (a snapshot at connect, one ping at a
   * time, a command per click).
   */
  tooManyCommands: 'API_TOO_MANY_COMMANDS',
  /** Client side: the pipe closed before the answer came. */
  disconnected: 'API_DISCONNECTED',
  /** Client side: no answer in time. */
  timeout: 'API_TIMEOUT',
} as const;

// --- The pipe both ends talk over ---------------------------------------------------------------

/**
 * The least a transport must do to carry the API. A WebSocket carries JSON text; a MessagePort
 * may carry the object itself (structured clone). Either way the receiver validates it.
 */
export interface MessagePipe {
  send(data: string | object): void;
  /** Each message as it arrived: a string, or a structured-clone object. */
  onMessage(listener: (data: unknown) => void): Disposer;
  /** Fires once when the pipe closes from either side. MessagePorts may never fire it. */
  onClose?(listener: () => void): Disposer;
  close(): void;
}

/**
 * What the Electron preload exposes to the renderer as `window.stationBridge`: a relay to the
 * core's MessagePort and nothing else. The renderer wraps it as a MessagePipe.
 */
export interface StationBridge {
  send(message: string | object): void;
  onMessage(listener: (data: unknown) => void): Disposer;
}

/** The global name the preload uses; the renderer looks for it to choose its pipe. */
export const STATION_BRIDGE_GLOBAL = 'stationBridge';
