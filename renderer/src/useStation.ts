/**
 * The station as React state: connects, takes a snapshot, applies events, and reconnects with
 * backoff when the link drops. The snapshot after each (re)connect replaces everything, so a
 * missed event while disconnected never leaves a stale slot on screen.
 */
import { useEffect, useState } from 'react';
import {
  CLOSE_CODES,
  type Disposer,
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
  /**
   * Still reconnecting after LOST_LONG_MS: a station restarted without `--port` listens on a new
   * port, so this page may never reach it again. The retries go on all the same.
   */
  | 'reconnecting-long'
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
/**
 * How long the link may stay down before the banner says what to do. A station that comes back
 * on the same port is reached well within it; one restarted on a new port refuses the old one
 * before the socket opens (close code 1006, never the token refusal), so time is the only sign.
 */
const LOST_LONG_MS = 30_000;
/**
 * How long the station may go on not answering before the link is dropped and made again. A
 * half-open socket (a network blip, a UI on another machine) never closes by itself, and a new
 * link with a fresh snapshot cures it; a slow station that answers before then keeps its link.
 */
const NOT_ANSWERING_RECONNECT_MS = 25_000;

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
    // The live link's heartbeat watch, and its timer that drops a link gone silent.
    let stopWatch: Disposer | undefined;
    let silentTimer: ReturnType<typeof setTimeout> | undefined;
    // Runs while the link is down; once it fired, the banner says what to do until a reconnect.
    let lostTimer: ReturnType<typeof setTimeout> | undefined;
    let lostLong = false;

    /** Stops what belongs to the live link, so nothing of it outlives it. */
    const endLink = (): void => {
      stopWatch?.();
      stopWatch = undefined;
      clearTimeout(silentTimer);
      silentTimer = undefined;
      client = undefined;
    };

    const retry = (pipe?: StationPipe): void => {
      if (stopped) return;
      endLink();
      if (pipe?.closeCode() === CLOSE_CODES.unauthorized) {
        // Retrying with a token the station no longer knows cannot work; say what to do instead.
        clearTimeout(lostTimer);
        lostTimer = undefined;
        setState((s) => ({ ...s, connection: 'token-refused', client: undefined }));
        return;
      }
      if (!lostLong && lostTimer === undefined) {
        lostTimer = setTimeout(() => {
          lostTimer = undefined;
          lostLong = true;
          setState((s) =>
            s.connection === 'reconnecting' ? { ...s, connection: 'reconnecting-long' } : s,
          );
        }, LOST_LONG_MS);
      }
      const connection = lostLong ? 'reconnecting-long' : 'reconnecting';
      setState((s) => ({ ...s, connection, client: undefined }));
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
        clearTimeout(lostTimer);
        lostTimer = undefined;
        lostLong = false;
        setState({ connection: 'connected', ...fromSnapshot(snapshot), client: live });
        // A reconnect (or the end of this client) stops the watch; the next link starts its own.
        stopWatch = watchStationHeartbeat(live, (answering) => {
          setState((s) =>
            s.client === live ? { ...s, connection: answering ? 'connected' : 'not-answering' } : s,
          );
          clearTimeout(silentTimer);
          silentTimer = undefined;
          if (answering) return;
          silentTimer = setTimeout(() => {
            if (client !== live) return;
            // close() does not call the disconnect listener: the retry is made here.
            live.close();
            retry(pipe);
          }, NOT_ANSWERING_RECONNECT_MS);
        });
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
      clearTimeout(lostTimer);
      const live = client;
      endLink();
      live?.close();
    };
  }, []);

  return state;
}
