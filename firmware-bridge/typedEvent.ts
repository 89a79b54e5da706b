/** Removes a listener; every subscription returns one. */
export type Disposer = () => void;

/** A minimal typed event: `on` subscribes and returns its disposer, `emit` calls listeners in order. */
export class TypedEvent<T> {
  private readonly listeners = new Set<(value: T) => void>();

  on(listener: (value: T) => void): Disposer {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
