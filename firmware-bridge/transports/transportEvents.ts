import { TypedEvent, type Disposer } from '../typedEvent.js';

/**
 * The event half of a Transport, shared by every implementation: data in arrival order and one
 * close notification per open, with the error when the link went away by itself.
 */
export class TransportEvents {
  private readonly data = new TypedEvent<Uint8Array>();
  private readonly closed = new TypedEvent<Error | undefined>();
  private closeReported = false;

  onData(listener: (bytes: Uint8Array) => void): Disposer {
    return this.data.on(listener);
  }

  onClose(listener: (error?: Error) => void): Disposer {
    return this.closed.on(listener);
  }

  emitData(bytes: Uint8Array): void {
    this.data.emit(bytes);
  }

  /** Reports the close once, however many of close/error/end the underlying stream emits. */
  emitClose(error?: Error): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.closed.emit(error);
  }

  /** Re-arms close reporting for a transport that is opened again. */
  rearm(): void {
    this.closeReported = false;
  }
}
