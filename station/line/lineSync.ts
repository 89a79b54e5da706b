import type { SyncStatusView } from './lineController.js';

/** What the line needs of the outbox sync worker (station/sync's SyncWorker fits). */
export interface LineSync {
  status(): {
    state: SyncStatusView['state'];
    connection: SyncStatusView['connection'];
    lastError?: { code: string; message: string; detail?: string };
    heldUntil?: string;
  };
  pause(): Promise<void>;
  resume(): void;
  syncNow(): Promise<unknown>;
  /** New pending rows exist: look now rather than at the next poll. */
  notify(): void;
  readonly onProgress: { on(listener: () => void): () => void };
  readonly onStateChange: { on(listener: () => void): () => void };
}

/** The sync worker's status as the station API shows it. */
export function syncView(progress: ReturnType<LineSync['status']>): SyncStatusView {
  const view: SyncStatusView = { state: progress.state, connection: progress.connection };
  if (progress.lastError) {
    const { code, message, detail } = progress.lastError;
    view.lastError = detail === undefined ? { code, message } : { code, message, detail };
  }
  if (progress.heldUntil !== undefined) view.heldUntil = progress.heldUntil;
  return view;
}
