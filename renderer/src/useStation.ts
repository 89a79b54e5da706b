/**
 * The station as React state: connects, takes a snapshot, applies events, and reconnects with
 * backoff when the link drops. The snapshot after each (re)connect replaces everything, so a
 * missed event while disconnected never leaves a stale slot on screen.
 */
import { useEffect, useState } from 'react';
import {
  CLOSE_CODES,
  type OutboxCountsPayload,
  type SlotViewPayload,
  type Snapshot,
  type StationStatusPayload,
} from '../../station/api/contract.js';
import { StationClient } from '../../station/api/stationClient.js';
import { watchStationHeartbeat } from '../../station/api/stationHeartbeat.js';
import { NoPipeError, openStationPipe, type StationPipe } from './stationPipe.js';

/** Where the link to the station is. */
export type Connection =
  | 'connecting'
  | 'connected'
  /** Connected, but the station has not answered for a while: what the screen shows may be old. */
  | 'not-answering'
  | 'reconnecting'
  /** The page has no token: it was not opened from the link the station printed. */
  | 'no-token'
  /** The station refused the token: it restarted and printed a new link. */
  | 'token-refused';

export interface StationState {
  connection: Connection;
  status?: StationStatusPayload;
  slots: SlotViewPayload[];
  outbox?: OutboxCountsPayload;
  /** Whether the station takes a passphrase from this connection (the snapshot's unlockHere). */
  unlockHere: boolean;
  /** `--data-dir <folder>` for the commands the UI names (the snapshot's dataDirFlag). */
  dataDirFlag?: string;
  /** The client of the live connection, for commands; undefined while disconnected. */
  client?: StationClient;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

function withSlot(slots: SlotViewPayload[], slot: SlotViewPayload): SlotViewPayload[] {
  const others = slots.filter((s) => s.slot !== slot.slot);
  return [...others, slot].sort((a, b) => a.slot - b.slot);
}

function fromSnapshot(
  snapshot: Snapshot,
): Pick<StationState, 'status' | 'slots' | 'outbox' | 'unlockHere' | 'dataDirFlag'> {
  return {
    status: snapshot.status,
    slots: [...snapshot.slots].sort((a, b) => a.slot - b.slot),
    outbox: snapshot.outbox,
    unlockHere: snapshot.unlockHere,
    // Set or cleared at every snapshot: a reconnect may reach a station started on another folder.
    dataDirFlag: snapshot.dataDirFlag,
  };
}

/** Subscribes the component to the station for as long as it is mounted. */
export function useStation(): StationState {
  const [state, setState] = useState<StationState>({
    connection: 'connecting',
    slots: [],
    unlockHere: false,
  });

  useEffect(() => {
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let client: StationClient | undefined;

    const retry = (pipe?: StationPipe): void => {
      if (stopped) return;
      client = undefined;
      if (pipe?.closeCode() === CLOSE_CODES.unauthorized) {
        // Retrying with a token the station no longer knows cannot work; say what to do instead.
        setState((s) => ({ ...s, connection: 'token-refused', client: undefined }));
        return;
      }
      setState((s) => ({ ...s, connection: 'reconnecting', client: undefined }));
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt++);
      timer = setTimeout(() => void connect(), delay);
    };

    const connect = async (): Promise<void> => {
      let pipe: StationPipe;
      try {
        pipe = await openStationPipe();
      } catch (err) {
        if (err instanceof NoPipeError && err.problem === 'no-token') {
          setState((s) => ({ ...s, connection: 'no-token' }));
          return;
        }
        return retry();
      }
      if (stopped) return pipe.close();
      const live = new StationClient(pipe);
      client = live;
      live.onDisconnect(() => retry(pipe));
      live.on('slot', (slot) => setState((s) => ({ ...s, slots: withSlot(s.slots, slot) })));
      live.on('outbox', (outbox) => setState((s) => ({ ...s, outbox })));
      live.on('status', (status) => setState((s) => ({ ...s, status })));
      try {
        const snapshot = await live.call('snapshot');
        attempt = 0;
        setState({ connection: 'connected', ...fromSnapshot(snapshot), client: live });
        // The watch ends by itself when this client closes; a reconnect starts a new one.
        watchStationHeartbeat(live, (answering) =>
          setState((s) =>
            s.client === live ? { ...s, connection: answering ? 'connected' : 'not-answering' } : s,
          ),
        );
      } catch {
        // The disconnect listener schedules the retry; a snapshot that failed otherwise is
        // retried the same way so the screen never sits on a half-drawn station.
        if (!live.closed) {
          live.close();
          retry(pipe);
        }
      }
    };

    void connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      client?.close();
    };
  }, []);

  return state;
}
