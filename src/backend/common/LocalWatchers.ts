// In-process append watchers (memory and SQLite backends): subscriptions per topic, notified on a microtask after each append.

/** Append watchers of one backend instance, per topic (they see appends made through that instance only). */
export class LocalWatchers {
  private readonly watchers = new Map<string, Set<(partition: number) => void>>();

  /** Subscribes `onAppend` to `topic`; returns the unsubscribe function. */
  watch(topic: string, onAppend: (partition: number) => void): () => void {
    let set = this.watchers.get(topic);
    if (set === undefined) this.watchers.set(topic, (set = new Set()));
    // Wrap so the same function can be subscribed twice and unsubscribed independently.
    const entry = (p: number) => onAppend(p);
    set.add(entry);
    return () => {
      const s = this.watchers.get(topic);
      if (s === undefined) return;
      s.delete(entry);
      if (s.size === 0) this.watchers.delete(topic);
    };
  }

  /** Calls the watchers of `topic` once per partition, in a microtask; a throwing watcher is logged and skipped. */
  notify(topic: string, partitions: ReadonlySet<number>): void {
    const set = this.watchers.get(topic);
    if (set === undefined || set.size === 0 || partitions.size === 0) return;
    const listeners = [...set];
    queueMicrotask(() => {
      for (const p of partitions) {
        for (const fn of listeners) {
          if (!set.has(fn)) continue;
          try {
            fn(p);
          } catch (e) {
            console.error(e);
          }
        }
      }
    });
  }

  /** Drops every subscription. */
  clear(): void {
    this.watchers.clear();
  }
}
