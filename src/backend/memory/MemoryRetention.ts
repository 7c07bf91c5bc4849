// MemoryRetention: per-topic retention and trimming of the in-memory backend.
import type { Clock } from '../../core/Clock.ts';
import { throwIfAborted } from '../../core/errors.ts';
import type {
  AppendResult,
  PartitionTrim,
  Retention,
  RetentionStore,
  TopicInfo,
  TopicRetentionInfo,
  TrimOptions,
  TrimResult,
} from '../Backend.ts';
import { checkName, checkPartition } from '../common/args.ts';
import { topicNotFound } from '../common/errors.ts';
import { compareCodePoints } from '../common/order.ts';
import { ageCutoff, checkRetention, trimTarget } from '../common/retention.ts';

/** One stored event; the payload stays JSON text so every read returns a fresh copy. */
export interface MemoryStoredEvent {
  readonly id: string;
  readonly key: string | undefined;
  readonly payload: string;
  readonly headers: string | undefined;
  readonly timestamp: number;
}

/** The state of one topic of the memory backend. */
export interface MemoryTopicState {
  readonly info: TopicInfo;
  /** One array per partition; the event at offset `o` is at index `o - first[partition]`. */
  readonly logs: MemoryStoredEvent[][];
  /** First available offset per partition (events before it were trimmed). */
  readonly first: number[];
  /** Every stored id in the topic → where it landed (ids are unique per topic). */
  readonly ids: Map<string, AppendResult>;
  retention: Retention | null;
}

/** What {@link MemoryRetention} reads and changes in its backend. */
export interface MemoryRetentionHost {
  readonly clock: Clock;
  readonly ensureOpen: () => void;
  readonly topics: Map<string, MemoryTopicState>;
  readonly committed: (group: string, topic: string, partition: number) => number;
  /** `group \0 topic \0 partition` → idempotency key → offset. */
  readonly markers: Map<string, Map<string, number>>;
  readonly unmark: (group: string, key: string) => void;
}

/** {@link RetentionStore} of the memory backend. */
export class MemoryRetention implements RetentionStore {
  constructor(private readonly host: MemoryRetentionHost) {}

  async set(topic: string, retention: Retention | null): Promise<void> {
    this.host.ensureOpen();
    const r = checkRetention(retention);
    this.require(topic).retention = r;
  }

  async get(topic: string): Promise<Retention | null> {
    this.host.ensureOpen();
    const r = this.require(topic).retention;
    return r === null ? null : structuredClone(r);
  }

  async list(): Promise<TopicRetentionInfo[]> {
    this.host.ensureOpen();
    const names = [...this.host.topics.keys()].sort(compareCodePoints);
    return names.map((name) => {
      const t = this.host.topics.get(name)!;
      return {
        topic: name,
        partitions: t.info.partitions,
        retention: t.retention === null ? null : structuredClone(t.retention),
        offsets: t.logs.map((log, p) => ({
          partition: p,
          first: t.first[p]!,
          end: t.first[p]! + log.length,
        })),
      };
    });
  }

  async firstOffset(topic: string, partition: number): Promise<number> {
    this.host.ensureOpen();
    const t = this.require(topic);
    checkPartition(partition, t.info.partitions);
    return t.first[partition]!;
  }

  async trim(topic: string, options: TrimOptions = {}): Promise<TrimResult> {
    this.host.ensureOpen();
    throwIfAborted(options.signal, 'trim');
    const t = this.require(topic);
    const now = options.now ?? this.host.clock.now();
    const cutoff = ageCutoff(t.retention, now);
    const holds = t.retention?.afterCommittedBy ?? [];
    const partitions: PartitionTrim[] = [];
    for (let p = 0; p < t.info.partitions; p++) {
      const log = t.logs[p]!;
      const first = t.first[p]!;
      let ageBound: number | undefined;
      if (cutoff !== undefined) {
        let i = 0;
        while (i < log.length && log[i]!.timestamp < cutoff) i++;
        ageBound = first + i;
      }
      const target = trimTarget(t.retention, {
        first,
        end: first + log.length,
        ageBound,
        holds: holds.map((g) => this.host.committed(g, topic, p)),
      });
      const removed = target - first;
      if (removed > 0) {
        for (const e of log.splice(0, removed)) t.ids.delete(e.id);
        t.first[p] = target;
      }
      partitions.push({ partition: p, firstOffset: target, removed });
    }
    return { topic, partitions, markersRemoved: this.removeMarkers(topic) };
  }

  /** Removes the markers of `topic` below their group's committed offset. */
  private removeMarkers(topic: string): number {
    let n = 0;
    for (const [k, at] of this.host.markers) {
      const [group, markerTopic, partition] = k.split('\u0000') as [string, string, string];
      if (markerTopic !== topic) continue;
      const committed = this.host.committed(group, topic, Number(partition));
      for (const [key, offset] of at) {
        if (offset >= committed) continue;
        at.delete(key);
        this.host.unmark(group, key);
        n++;
      }
      if (at.size === 0) this.host.markers.delete(k);
    }
    return n;
  }

  private require(topic: string): MemoryTopicState {
    checkName('topic', topic);
    const t = this.host.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    return t;
  }
}
