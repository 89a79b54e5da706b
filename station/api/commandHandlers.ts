/**
 * The station side of the contract: one handler per command, typed from contract.ts, and the
 * line's events as contract events. Both pipes (WebSocket, MessagePort) use these through
 * `serveStationApi`, so the headless station and the desktop app answer the same way.
 */
import type { LineController } from '../line/lineController.js';
import {
  DEFAULT_RECENT_RUNS,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type Disposer,
  type EventName,
  type EventPayload,
} from './contract.js';
import { clipText, fitRunView, fitSlotView, fitStatus } from './contractFit.js';
import { UnlockError } from './unlockError.js';

/** One function per command, with the argument and result types the contract gives it. */
export type CommandHandlers = {
  [C in CommandName]: (args: CommandArgs<C>) => CommandResult<C> | Promise<CommandResult<C>>;
};

/** Something that pushes contract events to a listener until the disposer is called. */
export type EventSource = (
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void,
) => Disposer;

/** Where a UI's commands come from, as the pipe that carries them knows it. */
export interface CommandOrigin {
  /**
   * True for the Electron window and a WebSocket from this machine's loopback: the only places
   * a passphrase may be typed, since the headless API is plain HTTP.
   */
  local: boolean;
}

/**
 * The commands as the line carries them out, for one connection from `origin` (no default: a
 * pipe that forgot to say would otherwise take a passphrase from anywhere). Errors the line
 * throws reach the caller coded. `dataDirFlag` is the station's (RunningStation), for the
 * snapshot.
 */
export function commandHandlers(
  line: LineController,
  origin: CommandOrigin,
  dataDirFlag?: string,
): CommandHandlers {
  return {
    snapshot: () => ({
      status: fitStatus(line.status()),
      slots: line.slots().map(fitSlotView),
      outbox: line.outboxCounts(),
      unlockHere: origin.local,
      ...(dataDirFlag !== undefined && { dataDirFlag: clipText(dataDirFlag) }),
    }),
    setMode: ({ mode }) => {
      line.setMode(mode);
      return null;
    },
    provision: ({ slot }) => {
      line.provision(slot);
      return null;
    },
    cancel: ({ slot }) => {
      line.cancel(slot);
      return null;
    },
    sync: ({ action }) => {
      line.controlSync(action);
      return null;
    },
    // Answered by the event loop that runs the line: if this comes back, the line is alive.
    ping: () => null,
    recentRuns: ({ limit = DEFAULT_RECENT_RUNS, failedOnly = false }) => ({
      // Cut to the limit here too: the contract refuses a longer list, and the UI would get none.
      runs: line.recentRuns({ limit, failedOnly }).slice(0, limit).map(fitRunView),
    }),
    unlock: async ({ passphrase }) => {
      if (!line.unlock) throw new UnlockError('STATION_NOT_LOCKED');
      if (!origin.local) throw new UnlockError('STATION_UNLOCK_NOT_LOCAL');
      await line.unlock(passphrase);
      return null;
    },
  };
}

/** The line's three events under their contract names. */
export function lineEvents(line: LineController): EventSource {
  return (emit) => {
    const disposers = [
      line.onSlotChanged.on((slot) => emit('slot', fitSlotView(slot))),
      line.onOutboxChanged.on((counts) => emit('outbox', counts)),
      line.onStatusChanged.on((status) => emit('status', fitStatus(status))),
    ];
    return () => {
      for (const dispose of disposers) dispose();
    };
  };
}
