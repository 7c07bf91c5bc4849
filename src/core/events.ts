// biome-ignore lint/suspicious/noExplicitAny: listeners of heterogeneous events are stored together.
type AnyFn = (...args: any[]) => void;

/** A map from event name to its listener's argument list. */
export type EventMap = { [event: string]: unknown[] };

/** A typed listener for event `E`. */
export type Listener<Events extends EventMap, E extends keyof Events> = (...args: Events[E]) => void;

/**
 * A small typed event emitter. Listener errors are isolated: a throwing listener never
 * breaks the emitter; the error goes to `onListenerError` (default: `console.error`).
 *
 * @example
 * ```ts
 * const ev = new TypedEmitter<{ done: [id: string] }>();
 * const off = ev.on('done', (id) => console.log(id));
 * ev.emit('done', 'a'); off();
 * ```
 */
export class TypedEmitter<Events extends EventMap> {
  private readonly listeners = new Map<keyof Events, Set<AnyFn>>();

  constructor(private readonly onListenerError: (e: unknown) => void = (e) => console.error(e)) {}

  /** Subscribes; returns a function that unsubscribes. */
  on<E extends keyof Events>(event: E, fn: Listener<Events, E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as unknown as AnyFn);
    return () => this.off(event, fn);
  }

  /** Subscribes for a single emission. */
  once<E extends keyof Events>(event: E, fn: Listener<Events, E>): () => void {
    const off = this.on(event, ((...args: Events[E]) => {
      off();
      fn(...args);
    }) as Listener<Events, E>);
    return off;
  }

  /** Unsubscribes. */
  off<E extends keyof Events>(event: E, fn: Listener<Events, E>): void {
    this.listeners.get(event)?.delete(fn as unknown as AnyFn);
  }

  /** Emits synchronously to every listener. Returns whether anyone listened. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const fn of [...set]) {
      try {
        (fn as unknown as (...a: Events[E]) => void)(...args);
      } catch (e) {
        this.onListenerError(e);
      }
    }
    return true;
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Removes all listeners. */
  removeAllListeners(): void {
    this.listeners.clear();
  }
}
