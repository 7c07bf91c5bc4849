// Polls all of a runner's idle partitions with one backend call (readMany), woken by watch hints.
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import type { Clock, Timer } from '../../core/Clock.ts';

/** A partition waiting for events: where to read from and whom to hand the events to. */
interface IdleEntry {
  readonly offset: number;
  readonly resolve: (events: LogEvent[] | undefined) => void;
}

/** Phase of the poller: `open` (polling), `closed` (every wait resolved with `undefined`). */
type PollerPhase = 'open' | 'closed';

/** Options of a {@link PartitionPoller}. */
export interface PartitionPollerOptions {
  readonly backend: Backend;
  readonly topic: string;
  /** Events read per partition and poll. */
  readonly batchSize: number;
  /** How often every idle partition is polled when no hint arrives (the fallback poll). */
  readonly intervalMs: number;
  readonly clock: Clock;
  /** A failed poll (it is tried again at the next fallback poll). */
  readonly onError: (error: unknown) => void;
}

/**
 * The idle side of a runner's reads. A partition worker that has caught up waits here instead of
 * polling on its own: one `readMany` per poll covers every idle partition, so an idle runner
 * costs one backend call per `intervalMs` whatever its partition count. A hint ({@link notify},
 * from the backend's `watch`) polls the hinted partitions at once; a hint for a partition that
 * is busy is kept for its next wait, so no append is missed between its last read and the wait.
 * @internal Used by {@link PartitionedRunner}.
 */
export class PartitionPoller {
  private phase: PollerPhase = 'open';
  private readonly idle = new Map<number, IdleEntry>();
  /** Partitions to poll at once (hinted, or waiting for their first read). */
  private readonly urgent = new Set<number>();
  private fallbackTimer: Timer | undefined;
  /** A poll of the urgent partitions queued for the next turn of the event loop. */
  private soon: NodeJS.Immediate | undefined;
  private polling = false;
  /** Backend calls made (for tests and stats). */
  polls = 0;
  /** Events handed over straight from hints, without a read (for tests and stats). */
  delivered = 0;

  constructor(private readonly opts: PartitionPollerOptions) {}

  /**
   * Waits for events of `partition` from `offset`. Resolves with a non-empty batch, or with
   * `undefined` when cancelled ({@link cancel}, {@link close}). With `soon`, the partition is
   * polled at once instead of at the next fallback poll (a partition's first read).
   */
  wait(partition: number, offset: number, soon = false): Promise<LogEvent[] | undefined> {
    if (this.phase === 'closed') return Promise.resolve(undefined);
    this.cancel(partition);
    return new Promise((resolve) => {
      this.idle.set(partition, { offset, resolve });
      if (soon) this.urgent.add(partition);
      if (this.urgent.has(partition)) this.scheduleSoon();
      this.scheduleFallback();
    });
  }

  /** Ends the wait of `partition` (it resolves with `undefined`). */
  cancel(partition: number): void {
    const entry = this.idle.get(partition);
    if (entry === undefined) return;
    this.idle.delete(partition);
    entry.resolve(undefined);
  }

  /**
   * A hint that `partition` has new events: poll it at once (or at its next wait when busy). When
   * the hint carries the events (contiguous, as `read` returns them) and they cover the offset the
   * partition waits at, the wait ends with them and no read is made.
   */
  notify(partition: number, events?: readonly LogEvent[]): void {
    if (this.phase === 'closed') return;
    const entry = this.idle.get(partition);
    if (entry !== undefined && events !== undefined && events.length > 0) {
      const skip = entry.offset - events[0]!.offset;
      if (skip >= 0 && skip < events.length) {
        this.idle.delete(partition);
        this.urgent.delete(partition);
        this.delivered += Math.min(events.length - skip, this.opts.batchSize);
        entry.resolve(events.slice(skip, skip + this.opts.batchSize));
        return;
      }
    }
    this.urgent.add(partition);
    if (entry !== undefined) this.scheduleSoon();
  }

  /** Stops polling; every wait resolves with `undefined`. */
  close(): void {
    this.phase = 'closed';
    if (this.fallbackTimer !== undefined) this.opts.clock.clearTimeout(this.fallbackTimer);
    if (this.soon !== undefined) clearImmediate(this.soon);
    this.fallbackTimer = undefined;
    this.soon = undefined;
    for (const p of [...this.idle.keys()]) this.cancel(p);
    this.urgent.clear();
  }

  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  /**
   * Polls the urgent partitions on the next turn of the event loop (`setImmediate`, not a 0 ms
   * timer, which Node rounds up to 1 ms): hints that arrive in one batch of I/O share one read.
   * Not a wait on time, so it does not go through the clock.
   */
  private scheduleSoon(): void {
    if (this.soon !== undefined || this.polling || this.phase === 'closed') return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      void this.poll(false);
    });
  }

  private scheduleFallback(): void {
    if (this.fallbackTimer !== undefined || this.phase === 'closed' || this.idle.size === 0) return;
    this.fallbackTimer = this.opts.clock.setTimeout(() => {
      this.fallbackTimer = undefined;
      void this.poll(true);
    }, this.opts.intervalMs);
  }

  /** One `readMany` over every idle partition (`all`) or over the urgent idle ones. */
  private async poll(all: boolean): Promise<void> {
    if (this.phase === 'closed') return;
    if (this.polling) {
      // One poll at a time: a fallback poll due meanwhile runs right after.
      if (all) this.scheduleFallback();
      return;
    }
    const targets: [number, IdleEntry][] = [];
    for (const [p, entry] of this.idle) {
      if (all || this.urgent.has(p)) {
        targets.push([p, entry]);
        this.urgent.delete(p);
      }
    }
    if (targets.length > 0) {
      this.polling = true;
      this.polls++;
      try {
        const results = await this.opts.backend.readMany(
          this.opts.topic,
          targets.map(([partition, e]) => ({ partition, fromOffset: e.offset })),
          this.opts.batchSize,
        );
        for (let i = 0; i < targets.length; i++) {
          const [p, entry] = targets[i]!;
          const events = results[i] ?? [];
          // Handed over only if the partition still waits with the same registration.
          if (events.length > 0 && this.idle.get(p) === entry) {
            this.idle.delete(p);
            entry.resolve(events);
          }
        }
      } catch (e) {
        this.opts.onError(e);
      } finally {
        this.polling = false;
      }
    }
    if (this.isClosed()) return;
    for (const p of this.urgent) {
      if (this.idle.has(p)) {
        this.scheduleSoon();
        break;
      }
    }
    this.scheduleFallback();
  }
}
