// DeadLetterQueue: failed items kept in a backend's DLQ store; list, replay via a handler or a topic, purge.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Backend, DeadLetter, DlqFilter, DlqStore } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/MemoryBackend.ts';
import { serializeError, toError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { validate } from '../core/validate.ts';
import { traceReplayRun } from '../telemetry/spans.ts';

/** Where a failed item came from; all fields optional. Matches the pipeline's `FailureInfo`. */
export interface DeadLetterInfo {
  /** Stable id; defaults to `source:topic:partition:offset` for log events, else a random UUID. */
  id?: string;
  seq?: number;
  key?: unknown;
  attempts?: number;
  topic?: string;
  partition?: number;
  offset?: number;
}

/** Options of {@link DeadLetterQueue}. */
export interface DeadLetterQueueOptions {
  /** Storage: a backend or its `dlq` store. Default: a fresh in-memory backend. */
  store?: Backend | DlqStore;
  /** Name recorded as each entry's `source` (pipeline or group name). Default `"pipeline"`. */
  source?: string;
  /**
   * Deliveries after which an entry is no longer replayed by {@link DeadLetterQueue.replay}
   * (it stays in the queue, `parked`, for inspection). Default: unlimited.
   */
  maxDeliveries?: number;
}

/** Outcome of {@link DeadLetterQueue.replay}. */
export interface ReplayOutcome {
  /** Ids processed successfully and removed. */
  readonly replayed: string[];
  /** Ids that failed again (their delivery count went up). */
  readonly failed: string[];
  /** Ids skipped because they reached `maxDeliveries`. */
  readonly parked: string[];
}

/** Events of a {@link DeadLetterQueue}. */
export type DeadLetterEvents = {
  dead_lettered: [letter: DeadLetter];
  replayed: [id: string];
  purged: [count: number];
};

const optionsSchema = z.object({
  store: z.unknown().optional(),
  source: z.string({ error: 'a string' }).min(1, 'a non-empty string').optional(),
  maxDeliveries: z
    .number({ error: 'an integer >= 1' })
    .int('an integer >= 1')
    .min(1, 'an integer >= 1')
    .optional(),
});

/**
 * A dead-letter queue for items that failed for good: inspect, replay through a handler (or
 * back into their topic), purge. Entries keep the last error, the attempts and a delivery
 * count that grows each time the same item is dead-lettered again.
 *
 * @example
 * ```ts
 * const dlq = new DeadLetterQueue<Order>();
 * await stream(orders).concurrent({ maxWorkers: 4 }).process(ship)
 *   .onError((error, order, info) => dlq.push(order, error, info)).collect();
 * for (const letter of await dlq.list()) console.log(letter.id, letter.error.message);
 * await dlq.replay(ship); // successful ones leave the queue
 * ```
 */
export class DeadLetterQueue<T = unknown> {
  /** Typed events. */
  readonly events = new TypedEmitter<DeadLetterEvents>();
  private readonly store: DlqStore;
  private readonly ownBackend: Backend | undefined;
  private readonly source: string;
  private readonly maxDeliveries: number;

  constructor(options: DeadLetterQueueOptions = {}) {
    const o = validate(optionsSchema, options, 'DeadLetterQueue');
    const store = options.store;
    if (store === undefined) {
      this.ownBackend = createMemoryBackend();
      this.store = this.ownBackend.dlq;
    } else if ('dlq' in store && typeof (store as Backend).append === 'function') {
      this.store = (store as Backend).dlq;
      this.ownBackend = undefined;
    } else {
      this.store = store as DlqStore;
      this.ownBackend = undefined;
    }
    this.source = o.source ?? 'pipeline';
    this.maxDeliveries = o.maxDeliveries ?? Number.POSITIVE_INFINITY;
  }

  /** Stores a failed item. Pushing the same id again increments its delivery count. */
  async push(item: T, error?: unknown, info: DeadLetterInfo = {}): Promise<DeadLetter<T>> {
    const id = info.id ?? this.idFor(info);
    const entry = {
      id,
      source: this.source,
      payload: item,
      error: serializeError(error ?? new Error('dead-lettered')),
      attempts: info.attempts ?? 1,
      ...(info.topic === undefined ? {} : { topic: info.topic }),
      ...(info.partition === undefined ? {} : { partition: info.partition }),
      ...(info.offset === undefined ? {} : { offset: info.offset }),
      ...(info.key === undefined || info.key === null ? {} : { key: String(info.key) }),
    };
    const letter = (await this.store.put(entry)) as DeadLetter<T>;
    this.events.emit('dead_lettered', letter);
    return letter;
  }

  /** Entries of this queue's source, oldest first. */
  list(filter: DlqFilter = {}): Promise<DeadLetter<T>[]> {
    return this.store.list({ source: this.source, ...filter }) as Promise<DeadLetter<T>[]>;
  }

  /** One entry. */
  get(id: string): Promise<DeadLetter<T> | undefined> {
    return this.store.get(id) as Promise<DeadLetter<T> | undefined>;
  }

  /** Number of entries. */
  count(filter: DlqFilter = {}): Promise<number> {
    return this.store.count({ source: this.source, ...filter });
  }

  /**
   * Runs `handler` on each matching entry, oldest first. Entries that succeed are removed;
   * entries that fail again stay with a higher delivery count and the new error; entries at
   * `maxDeliveries` are left parked.
   */
  async replay(
    handler: (item: T, letter: DeadLetter<T>) => unknown,
    filter: DlqFilter = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<ReplayOutcome> {
    const replayed: string[] = [];
    const failed: string[] = [];
    const parked: string[] = [];
    for (const letter of await this.list(filter)) {
      options.signal?.throwIfAborted();
      if (letter.deliveryCount >= this.maxDeliveries) {
        parked.push(letter.id);
        continue;
      }
      // In a span continuing the dead letter's trace when tracing is on (the new failure inside it).
      let stored = false;
      const ok = await traceReplayRun(letter, async () => {
        try {
          await handler(letter.payload, letter);
        } catch (e) {
          const { deliveryCount: _d, firstFailedAt: _f, lastFailedAt: _l, ...rest } = letter;
          await this.store.put({ ...rest, error: serializeError(toError(e)) });
          stored = true;
          throw e;
        }
      }).then(
        () => true,
        (e: unknown) => {
          if (!stored) throw e; // the store failed: as before, the replay rejects
          return false;
        },
      );
      if (!ok) {
        failed.push(letter.id);
        continue;
      }
      await this.store.purge({ ids: [letter.id] });
      replayed.push(letter.id);
      this.events.emit('replayed', letter.id);
    }
    return { replayed, failed, parked };
  }

  /** Re-appends matching entries to their topic (or `toTopic`) in the backend and removes them. */
  async replayToTopic(filter: DlqFilter = {}, options: { toTopic?: string } = {}): Promise<string[]> {
    const ids = await this.store.replay({ source: this.source, ...filter }, options);
    for (const id of ids) this.events.emit('replayed', id);
    return ids;
  }

  /** Deletes matching entries (all of this source by default); returns how many. */
  async purge(filter: DlqFilter = {}): Promise<number> {
    const n = await this.store.purge({ source: this.source, ...filter });
    this.events.emit('purged', n);
    return n;
  }

  /** Closes the in-memory backend this queue created (a given store is left open). */
  async close(): Promise<void> {
    await this.ownBackend?.close();
  }

  private idFor(info: DeadLetterInfo): string {
    if (info.topic !== undefined && info.partition !== undefined && info.offset !== undefined) {
      return `${this.source}:${info.topic}:${info.partition}:${info.offset}`;
    }
    return randomUUID();
  }
}
