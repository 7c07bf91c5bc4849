// MemoryBackend: the default backend, every topic, offset and sub-store in process memory.
import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type {
  AppendInput,
  AppendResult,
  Backend,
  CommitOptions,
  CommitOutcome,
  CommitRequest,
  EnsureTopicOptions,
  GroupTopic,
  LogEvent,
  OpOptions,
  ReadRequest,
  Retention,
  TopicInfo,
  TrimOptions,
  TrimResult,
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
import { checkPartitionList, checkReadRequests } from '../common/batchArgs.ts';
import { commitEach } from '../common/commitEach.ts';
import { closedError, fencedError, topicNotFound } from '../common/errors.ts';
import { decodeJson } from '../common/json.ts';
import { LocalWatchers } from '../common/LocalWatchers.ts';
import { sortGroups, sortNames } from '../common/listing.ts';
import { checkMarkerOffsets, checkRetention, offsetTrimmed } from '../common/retention.ts';
import { appendTimed, checkTopicTtl, usesTime } from '../common/timed.ts';
import { MemoryAssignments } from './MemoryAssignments.ts';
import { MemoryDelayed } from './MemoryDelayed.ts';
import { MemoryDlq } from './MemoryDlq.ts';
import { MemoryLeases } from './MemoryLeases.ts';
import { MemoryLimits } from './MemoryLimits.ts';
import { MemoryMembership } from './MemoryMembership.ts';
import { MemoryRetention, type MemoryTopicState } from './MemoryRetention.ts';
import { MemorySchedules } from './MemorySchedules.ts';
import { optionsSchema } from './memoryOptions.ts';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
}

type TopicState = MemoryTopicState;

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
  readonly retention: MemoryRetention;
  readonly limits: MemoryLimits;
  readonly delayed: MemoryDelayed;
  readonly schedules: MemorySchedules;
  readonly assignments: MemoryAssignments;

  private readonly clock: Clock;
  private lifecycle: MemoryBackendState = 'open';
  private readonly topics = new Map<string, TopicState>();
  private readonly offsets = new Map<string, number>();
  private readonly processedKeys = new Map<string, Set<string>>();
  /** `offsetKey(group, topic, partition)` → idempotency key → the offset it belongs to. */
  private readonly markerOffsets = new Map<string, Map<string, number>>();
  private readonly watchers = new LocalWatchers();

  constructor(options: MemoryBackendOptions = {}) {
    const opts = validate(optionsSchema, options, 'MemoryBackend');
    this.clock = opts.clock ?? systemClock;
    const ensureOpen = () => this.ensureOpen();
    this.leases = new MemoryLeases(this.clock, ensureOpen);
    this.membership = new MemoryMembership(this.clock, ensureOpen);
    this.limits = new MemoryLimits(ensureOpen);
    this.delayed = new MemoryDelayed(ensureOpen);
    this.schedules = new MemorySchedules(ensureOpen);
    this.assignments = new MemoryAssignments(this.clock, ensureOpen);
    this.dlq = new MemoryDlq(this.clock, ensureOpen, this);
    this.retention = new MemoryRetention({
      clock: this.clock,
      ensureOpen,
      topics: this.topics,
      committed: (group, topic, partition) => this.offsets.get(offsetKey(group, topic, partition)) ?? 0,
      markers: this.markerOffsets,
      unmark: (group, key) => this.processedKeys.get(group)?.delete(key),
    });
  }

  /** `open` until {@link close}. */
  get state(): MemoryBackendState {
    return this.lifecycle;
  }

  async ensureTopic(topic: string, options: EnsureTopicOptions): Promise<TopicInfo> {
    this.ensureOpen();
    checkName('topic', topic);
    const partitions = checkPartitionCount(options?.partitions);
    const retention = options.retention === undefined ? undefined : checkRetention(options.retention);
    const ttl = checkTopicTtl(options.ttl);
    if (ttl !== undefined) this.delayed.setTopicTtlSync(topic, ttl);
    const existing = this.topics.get(topic);
    if (existing) {
      if (retention !== undefined) existing.retention = retention;
      return { ...existing.info };
    }
    const state: TopicState = {
      info: { topic, partitions },
      logs: Array.from({ length: partitions }, () => []),
      first: new Array<number>(partitions).fill(0),
      ids: new Map(),
      retention: retention ?? null,
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
    if (usesTime(events)) {
      return appendTimed(this, this.delayed, topic, events, this.clock.now(), async (evs) =>
        this.appendSync(topic, evs),
      );
    }
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
      const result: AppendResult = { id, partition: e.partition, offset: t.first[e.partition]! + log.length };
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
    const first = t.first[partition]!;
    if (fromOffset < first) throw offsetTrimmed(topic, partition, fromOffset, first);
    const end = Math.min(first + log.length, fromOffset + limit);
    const out: LogEvent[] = [];
    for (let offset = fromOffset; offset < end; offset++) {
      const s = log[offset - first]!;
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

  async readMany(
    topic: string,
    requests: readonly ReadRequest[],
    limitPerPartition: number,
    options?: OpOptions,
  ): Promise<LogEvent[][]> {
    this.ensureOpen();
    throwIfAborted(options?.signal, 'readMany');
    const t = this.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    checkReadRequests(requests, t.info.partitions);
    checkNonNegativeInt('limitPerPartition', limitPerPartition);
    const out: LogEvent[][] = [];
    for (const r of requests) out.push(await this.read(topic, r.partition, r.fromOffset, limitPerPartition));
    return out;
  }

  async endOffset(topic: string, partition: number): Promise<number> {
    this.ensureOpen();
    const t = this.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    checkPartition(partition, t.info.partitions);
    return t.first[partition]! + t.logs[partition]!.length;
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
    const markerOffsets = checkMarkerOffsets(keys, options.idempotencyOffsets);
    if (options.fence !== undefined && !this.leases.holds(options.fence.lease, options.fence.token)) {
      throw fencedError(options.fence, { group, topic, partition });
    }
    const k = offsetKey(group, topic, partition);
    if (offset > (this.offsets.get(k) ?? 0)) this.offsets.set(k, offset);
    if (keys.length > 0) this.markSync(group, keys);
    if (markerOffsets !== undefined && keys.length > 0) {
      let at = this.markerOffsets.get(k);
      if (at === undefined) this.markerOffsets.set(k, (at = new Map()));
      for (let i = 0; i < keys.length; i++) at.set(keys[i]!, markerOffsets[i]!);
    }
  }

  commitMany(
    group: string,
    topic: string,
    commits: readonly CommitRequest[],
    options?: OpOptions,
  ): Promise<CommitOutcome[]> {
    return commitEach(this, group, topic, commits, options);
  }

  async listTopics(): Promise<string[]> {
    this.ensureOpen();
    return sortNames(this.topics.keys());
  }

  async listGroups(): Promise<GroupTopic[]> {
    this.ensureOpen();
    const pairs = new Map<string, GroupTopic>();
    for (const k of this.offsets.keys()) {
      const [group = '', topic = ''] = k.split('\u0000');
      pairs.set(`${group}\u0000${topic}`, { group, topic });
    }
    return sortGroups([...pairs.values()]);
  }

  async committed(group: string, topic: string, partition: number): Promise<number> {
    this.ensureOpen();
    return this.offsets.get(offsetKey(group, topic, partition)) ?? 0;
  }

  async committedMany(group: string, topic: string, partitions: readonly number[]): Promise<number[]> {
    this.ensureOpen();
    checkPartitionList(partitions);
    return partitions.map((p) => this.offsets.get(offsetKey(group, topic, p)) ?? 0);
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

  setRetention(topic: string, retention: Retention | null): Promise<void> {
    return this.retention.set(topic, retention);
  }

  trim(topic: string, options?: TrimOptions): Promise<TrimResult> {
    return this.retention.trim(topic, options);
  }

  watch(topic: string, onAppend: (partition: number) => void): () => void {
    this.ensureOpen();
    return this.watchers.watch(topic, onAppend);
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
    this.watchers.notify(topic, partitions);
  }

  private ensureOpen(): void {
    if (this.lifecycle === 'closed') throw closedError(this.kind);
  }
}

/** The map key of a (group, topic, partition) offset; also used for marker offsets. */
export function offsetKey(group: string, topic: string, partition: number): string {
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
