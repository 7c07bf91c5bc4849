import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type {
  AppendInput,
  AppendResult,
  Backend,
  CommitOptions,
  LogEvent,
  OpOptions,
  TopicInfo,
} from '../Backend.ts';
import {
  checkKeys,
  checkName,
  checkNonNegativeInt,
  checkPartition,
  checkPartitionCount,
  checkPartitionIndex,
  prepareEvents,
} from '../common/args.ts';
import { closedError, fencedError, topicNotFound } from '../common/errors.ts';
import { decodeJson } from '../common/json.ts';
import { MemoryDlq } from './MemoryDlq.ts';
import { MemoryLeases } from './MemoryLeases.ts';
import { MemoryMembership } from './MemoryMembership.ts';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
}

const optionsSchema = z.object({
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
});

/** One stored event; the payload stays JSON text so every read returns a fresh copy. */
interface StoredEvent {
  readonly id: string;
  readonly key: string | undefined;
  readonly payload: string;
  readonly headers: string | undefined;
  readonly timestamp: number;
}

interface TopicState {
  readonly info: TopicInfo;
  /** One array per partition; the offset of an event is its index. */
  readonly logs: StoredEvent[][];
  /** Every id in the topic → where it landed (ids are unique per topic). */
  readonly ids: Map<string, AppendResult>;
}

/** Lifecycle of a {@link MemoryBackend}. */
export type MemoryBackendState = 'open' | 'closed';

/**
 * The default backend: everything in process memory. Fast and dependency-free; nothing
 * survives the process. Use it for tests, single-process pipelines and development; use
 * `sluice/sqlite` for an embedded durable log and `sluice/postgres` / `sluice/redis` for clusters.
 *
 * Appends are O(events), reads O(limit), commits O(keys): each partition is an array indexed
 * by offset and ids sit in a hash map. `watch()` notifies appends on the next microtask.
 *
 * @example
 * ```ts
 * import { createMemoryBackend } from 'sluice';
 *
 * const backend = createMemoryBackend();
 * await backend.ensureTopic('orders', { partitions: 8 });
 * const [pos] = await backend.append('orders', [{ key: 'customer-1', payload: { total: 42 } }]);
 * const events = await backend.read('orders', pos.partition, 0, 100);
 * await backend.commit('billing', 'orders', pos.partition, pos.offset + 1);
 * await backend.close();
 * ```
 */
export class MemoryBackend implements Backend {
  readonly kind = 'memory';
  readonly dlq: MemoryDlq;
  readonly leases: MemoryLeases;
  readonly membership: MemoryMembership;

  private readonly clock: Clock;
  private lifecycle: MemoryBackendState = 'open';
  private readonly topics = new Map<string, TopicState>();
  private readonly offsets = new Map<string, number>();
  private readonly processedKeys = new Map<string, Set<string>>();
  private readonly watchers = new Map<string, Set<(partition: number) => void>>();

  constructor(options: MemoryBackendOptions = {}) {
    const opts = validate(optionsSchema, options, 'MemoryBackend');
    this.clock = opts.clock ?? systemClock;
    const ensureOpen = () => this.ensureOpen();
    this.leases = new MemoryLeases(this.clock, ensureOpen);
    this.membership = new MemoryMembership(this.clock, ensureOpen);
    this.dlq = new MemoryDlq(this.clock, ensureOpen, this);
  }

  /** `open` until {@link close}. */
  get state(): MemoryBackendState {
    return this.lifecycle;
  }

  async ensureTopic(topic: string, options: { partitions: number }): Promise<TopicInfo> {
    this.ensureOpen();
    checkName('topic', topic);
    const partitions = checkPartitionCount(options?.partitions);
    const existing = this.topics.get(topic);
    if (existing) return { ...existing.info };
    const state: TopicState = {
      info: { topic, partitions },
      logs: Array.from({ length: partitions }, () => []),
      ids: new Map(),
    };
    this.topics.set(topic, state);
    return { ...state.info };
  }

  async topicInfo(topic: string): Promise<TopicInfo | undefined> {
    this.ensureOpen();
    return this.topicInfoSync(topic);
  }

  /** Synchronous {@link topicInfo}; used by the DLQ to replay atomically. */
  topicInfoSync(topic: string): TopicInfo | undefined {
    const t = this.topics.get(topic);
    return t === undefined ? undefined : { ...t.info };
  }

  async append(topic: string, events: readonly AppendInput[], options?: OpOptions): Promise<AppendResult[]> {
    this.ensureOpen();
    throwIfAborted(options?.signal, 'append');
    return this.appendSync(topic, events);
  }

  /** Synchronous {@link append}: validates the whole batch, then applies it (all or nothing). */
  appendSync(topic: string, events: readonly AppendInput[]): AppendResult[] {
    const t = this.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    const prepared = prepareEvents(events, t.info.partitions);
    const now = this.clock.now();
    const results: AppendResult[] = new Array(prepared.length);
    let touched: Set<number> | undefined;
    for (let i = 0; i < prepared.length; i++) {
      const e = prepared[i]!;
      if (e.id !== undefined) {
        const seen = t.ids.get(e.id);
        if (seen !== undefined) {
          results[i] = { ...seen };
          continue;
        }
      }
      const id = e.id ?? randomUUID();
      const log = t.logs[e.partition]!;
      const result: AppendResult = { id, partition: e.partition, offset: log.length };
      log.push({ id, key: e.key, payload: e.payload, headers: e.headers, timestamp: now });
      t.ids.set(id, result);
      results[i] = { ...result };
      (touched ??= new Set()).add(e.partition);
    }
    if (touched !== undefined) this.notify(topic, touched);
    return results;
  }

  async read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    options?: OpOptions,
  ): Promise<LogEvent[]> {
    this.ensureOpen();
    throwIfAborted(options?.signal, 'read');
    const t = this.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    checkPartition(partition, t.info.partitions);
    checkNonNegativeInt('fromOffset', fromOffset);
    checkNonNegativeInt('limit', limit);
    const log = t.logs[partition]!;
    const end = Math.min(log.length, fromOffset + limit);
    const out: LogEvent[] = [];
    for (let offset = fromOffset; offset < end; offset++) {
      const s = log[offset]!;
      const ev: { -readonly [K in keyof LogEvent]: LogEvent[K] } = {
        topic,
        partition,
        offset,
        id: s.id,
        payload: decodeJson(s.payload),
        timestamp: s.timestamp,
      };
      if (s.key !== undefined) ev.key = s.key;
      if (s.headers !== undefined) ev.headers = decodeJson<Record<string, string>>(s.headers);
      out.push(ev);
    }
    return out;
  }

  async endOffset(topic: string, partition: number): Promise<number> {
    this.ensureOpen();
    const t = this.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    checkPartition(partition, t.info.partitions);
    return t.logs[partition]!.length;
  }

  async commit(
    group: string,
    topic: string,
    partition: number,
    offset: number,
    options: CommitOptions = {},
  ): Promise<void> {
    this.ensureOpen();
    throwIfAborted(options.signal, 'commit');
    checkName('group', group);
    checkName('topic', topic);
    checkPartitionIndex(partition);
    checkNonNegativeInt('offset', offset);
    const keys =
      options.idempotencyKeys === undefined ? [] : checkKeys('idempotencyKeys', options.idempotencyKeys);
    if (options.fence !== undefined && !this.leases.holds(options.fence.lease, options.fence.token)) {
      throw fencedError(options.fence, { group, topic, partition });
    }
    const k = offsetKey(group, topic, partition);
    if (offset > (this.offsets.get(k) ?? 0)) this.offsets.set(k, offset);
    if (keys.length > 0) this.markSync(group, keys);
  }

  async committed(group: string, topic: string, partition: number): Promise<number> {
    this.ensureOpen();
    return this.offsets.get(offsetKey(group, topic, partition)) ?? 0;
  }

  async processed(group: string, keys: readonly string[]): Promise<Set<string>> {
    this.ensureOpen();
    checkKeys('keys', keys);
    const done = this.processedKeys.get(group);
    const out = new Set<string>();
    if (done === undefined) return out;
    for (const k of keys) if (done.has(k)) out.add(k);
    return out;
  }

  async markProcessed(group: string, keys: readonly string[]): Promise<void> {
    this.ensureOpen();
    checkName('group', group);
    checkKeys('keys', keys);
    this.markSync(group, keys);
  }

  watch(topic: string, onAppend: (partition: number) => void): () => void {
    this.ensureOpen();
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

  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    this.watchers.clear();
  }

  private markSync(group: string, keys: readonly string[]): void {
    let set = this.processedKeys.get(group);
    if (set === undefined) this.processedKeys.set(group, (set = new Set()));
    for (const k of keys) set.add(k);
  }

  private notify(topic: string, partitions: Set<number>): void {
    const set = this.watchers.get(topic);
    if (set === undefined || set.size === 0) return;
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

  private ensureOpen(): void {
    if (this.lifecycle === 'closed') throw closedError(this.kind);
  }
}

function offsetKey(group: string, topic: string, partition: number): string {
  return `${group}\u0000${topic}\u0000${partition}`;
}

/**
 * Creates a {@link MemoryBackend}.
 *
 * @example
 * ```ts
 * const backend = createMemoryBackend({ clock: new ManualClock() });
 * ```
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  return new MemoryBackend(options);
}
