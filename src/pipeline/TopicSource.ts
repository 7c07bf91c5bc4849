// Reads a backend topic for a consumer group and checkpoints the safe offset of each partition.
import type { Backend, LogEvent } from '../backend/Backend.ts';
import type { Clock, Timer } from '../core/Clock.ts';
import { SluiceError } from '../core/errors.ts';
import { traceCommit } from '../telemetry/spans.ts';
import { ExpiryGate } from '../time/expiry.ts';
import { OffsetTracker } from './OffsetTracker.ts';

/** Options of `stream.fromTopic()`. */
export interface TopicSourceOptions {
  /** The backend holding the topic. */
  backend: Backend;
  /** Topic to consume. */
  topic: string;
  /** Consumer group: offsets and idempotency markers are kept per group. */
  group: string;
  /** Partitions to consume (default: all of the topic). */
  partitions?: readonly number[];
  /** Events read per partition per round (default 500). */
  batchSize?: number;
  /**
   * Keep waiting for new events at the end of the log (unbounded stream) instead of ending
   * when every partition reached the end offset seen at start. Default false.
   */
  follow?: boolean;
  /** With `follow`, how long to wait between polls when idle (default 100 ms); appends wake readers earlier when the backend supports `watch`. */
  pollInterval?: number;
}

interface PartitionState {
  readonly partition: number;
  next: number;
  /** End offset at start (bounded mode). */
  end: number;
  readonly tracker: OffsetTracker;
  /** Offsets completed beyond the tracker's low mark, with their idempotency keys. */
  readonly doneAhead: Map<number, string>;
  committed: number;
}

/**
 * Reads a topic's partitions for a consumer group, starting at the committed offsets, and
 * checkpoints progress: the committed offset of a partition is the first offset not yet
 * finished (a safe high-water mark: an event finished out of order never lets the offset
 * skip an unfinished one). Events finished beyond that mark are committed as idempotency
 * markers in the same transaction, so after a crash they are skipped instead of run again.
 * @internal Used by `stream.fromTopic()`.
 */
export class TopicSource {
  private readonly states = new Map<number, PartitionState>();
  private timer: Timer | undefined;
  private committing: Promise<void> = Promise.resolve();
  private dirty = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private unwatch: (() => void) | undefined;
  /** Events skipped on resume because their idempotency marker was already committed. */
  skipped = 0;
  /** Events past their TTL: dead-lettered with code `EXPIRED` (source: the group), never yielded. */
  expired = 0;
  private readonly expiry: ExpiryGate;

  constructor(
    readonly options: TopicSourceOptions,
    private readonly clock: Clock,
  ) {
    this.expiry = new ExpiryGate(options.backend, options.topic, options.group, clock);
  }

  /** The idempotency key of an event for this group. */
  keyOf(e: LogEvent): string {
    return `${this.options.group}:${e.topic}:${e.partition}:${e.offset}`;
  }

  /** Log position of an event (for the engine's partition and offset). */
  positionOf(e: LogEvent): { partition: number; offset: number } {
    return { partition: e.partition, offset: e.offset };
  }

  /** Reads events in offset order per partition, round robin across partitions. */
  async *events(signal?: AbortSignal): AsyncGenerator<LogEvent> {
    const { backend, topic, group } = this.options;
    const info = await backend.topicInfo(topic);
    if (!info) {
      throw new SluiceError('NOT_FOUND', `Topic ${JSON.stringify(topic)} does not exist`, {
        context: { topic },
      });
    }
    await this.expiry.ready();
    const partitions = this.options.partitions ?? Array.from({ length: info.partitions }, (_, i) => i);
    for (const p of partitions) {
      const committed = await backend.committed(group, topic, p);
      const end = await backend.endOffset(topic, p);
      this.states.set(p, {
        partition: p,
        next: committed,
        end,
        tracker: new OffsetTracker(committed),
        doneAhead: new Map(),
        committed,
      });
    }
    const follow = this.options.follow ?? false;
    const batchSize = this.options.batchSize ?? 500;
    if (follow && backend.watch) this.unwatch = backend.watch(topic, () => this.wake?.());
    try {
      for (;;) {
        let progressed = false;
        let remaining = false;
        for (const st of this.states.values()) {
          if (this.closed || signal?.aborted) return;
          if (!follow && st.next >= st.end) continue;
          const limit = follow ? batchSize : Math.min(batchSize, st.end - st.next);
          const batch = await backend.read(topic, st.partition, st.next, limit);
          if (batch.length === 0) continue;
          progressed = true;
          st.next = batch[batch.length - 1]!.offset + 1;
          if (!follow && st.next < st.end) remaining = true;
          const done = await backend.processed(
            group,
            batch.map((e) => this.keyOf(e)),
          );
          for (const e of batch) {
            st.tracker.admitUpTo(e.offset);
            st.tracker.admit();
            if (done.size > 0 && done.has(this.keyOf(e))) {
              // Finished before a crash, past the committed offset: not run again.
              this.skipped++;
              this.complete(e.partition, e.offset);
              continue;
            }
            if (this.expiry.expired(e)) {
              await this.expiry.deadLetter(e);
              this.expired++;
              this.complete(e.partition, e.offset);
              continue;
            }
            yield e;
          }
        }
        if (!follow && !remaining && !progressed) return;
        if (follow && !progressed) await this.idle(signal);
      }
    } finally {
      this.unwatch?.();
      this.unwatch = undefined;
    }
  }

  /** Records that the event at (partition, offset) finished (processed or dead-lettered). */
  complete(partition: number, offset: number): void {
    const st = this.states.get(partition);
    if (!st) return;
    const low = st.tracker.complete(offset);
    if (offset >= low)
      st.doneAhead.set(offset, `${this.options.group}:${this.options.topic}:${partition}:${offset}`);
    this.dirty = true;
  }

  /** Starts committing every `everyMs`. */
  startCheckpoints(everyMs: number): void {
    const tick = () => {
      this.timer = undefined;
      if (this.closed) return;
      void this.checkpoint()
        .catch(() => {})
        .finally(() => {
          if (!this.closed) this.timer = this.clock.setTimeout(tick, everyMs);
        });
    };
    this.timer = this.clock.setTimeout(tick, everyMs);
  }

  /** Commits the safe offset of every partition that progressed (serialized; never goes backwards). */
  checkpoint(): Promise<void> {
    this.committing = this.committing.then(() => this.commitNow());
    return this.committing;
  }

  /** Current committed offsets by partition. */
  committedOffsets(): Map<number, number> {
    return new Map([...this.states.values()].map((s) => [s.partition, s.committed]));
  }

  /** Stops checkpoint timers (a final {@link checkpoint} is the caller's choice). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
  }

  private async commitNow(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const { backend, group, topic } = this.options;
    for (const st of this.states.values()) {
      const low = st.tracker.low;
      const ahead: string[] = [];
      const aheadOffsets: number[] = [];
      for (const [offset, key] of st.doneAhead) {
        if (offset < low) st.doneAhead.delete(offset);
        else {
          ahead.push(key);
          aheadOffsets.push(offset);
        }
      }
      if (low === st.committed && ahead.length === 0) continue;
      try {
        await traceCommit({ group, topic, partition: st.partition, offset: low }, [], () =>
          backend.commit(
            group,
            topic,
            st.partition,
            low,
            // With their offsets, so retention removes the markers once the offset passed them.
            ahead.length > 0 ? { idempotencyKeys: ahead, idempotencyOffsets: aheadOffsets } : {},
          ),
        );
      } catch (e) {
        this.dirty = true;
        throw e;
      }
      st.committed = low;
    }
  }

  private idle(signal?: AbortSignal): Promise<void> {
    const ms = this.options.pollInterval ?? 100;
    return new Promise<void>((resolve) => {
      const done = () => {
        this.clock.clearTimeout(t);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const t = this.clock.setTimeout(done, ms);
      this.wake = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
