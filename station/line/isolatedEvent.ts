import { TypedEvent, type Disposer } from '../../firmware-bridge/typedEvent.js';

/**
 * A TypedEvent whose listeners cannot hurt the emitter or each other: a listener that throws (a
 * UI bridge, a logger, a test) becomes a process warning, and the next listeners still hear the
 * event. The line emits from inside runs; a faulty subscriber must never fail a device's run.
 */
export class IsolatedEvent<T> extends TypedEvent<T> {
  override on(listener: (value: T) => void): Disposer {
    return super.on((value) => {
      try {
        listener(value);
      } catch (err) {
        process.emitWarning(
          err instanceof Error ? err : new Error(String(err)),
          'LineListenerError',
        );
      }
    });
  }
}
