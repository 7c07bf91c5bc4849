// collectStatus: a backend's topics, group lag and partition owners, leases, members, DLQ size, plus sources.

import type { Backend, DeadLetter } from '../backend/Backend.ts';
import { type Clock, systemClock } from '../core/Clock.ts';
import { timeCounts } from '../time/timeCounts.ts';
import type {
  BreakerStatus,
  HotKeyStatus,
  KeyStatus,
  PipelineStatus,
  ScheduledStatus,
  StatusSource,
  SupervisionNode,
} from './StatusSource.ts';

/** Options of {@link collectStatus}. */
export interface CollectStatusOptions {
  /** Topics to show besides those discovered from leases, dead letters and `listTopics()`. */
  topics?: readonly string[];
  /**
   * Consumer groups to show besides those discovered: each is shown on the topics where it has
   * committed offsets or partition leases, and on the topics of `topics`.
   */
  groups?: readonly string[];
  /** Members whose last heartbeat is older than this are not listed (ms, default 30000). */
  memberTimeoutMs?: number;
  /** In-process sources: supervision trees, breakers, pipelines. */
  sources?: readonly StatusSource[];
  /** Dead letters scanned for topic discovery (default 1000). */
  dlqScan?: number;
  /** Time source of the snapshot's `at` (use the backend's clock). Default `systemClock`. */
  clock?: Clock;
}

/** A partition of a topic. */
export interface TopicPartitionStatus {
  readonly partition: number;
  readonly endOffset: number;
}

/** A consumer group's position on one partition, with the lease owner when a runner holds it. */
export interface GroupPartitionStatus {
  readonly partition: number;
  readonly endOffset: number;
  readonly committed: number;
  readonly lag: number;
  readonly owner?: string;
  readonly fencingToken?: number;
  readonly leaseExpiresAt?: number;
}

/** What `sluice status` and the dashboard show. */
export interface StatusSnapshot {
  readonly backend: string;
  /** When the snapshot was taken (ms since epoch). */
  readonly at: number;
  readonly topics: ReadonlyArray<{
    topic: string;
    partitions: TopicPartitionStatus[];
    endOffsetTotal: number;
  }>;
  readonly groups: ReadonlyArray<{
    group: string;
    topic: string;
    partitions: GroupPartitionStatus[];
    committedTotal: number;
    lagTotal: number;
  }>;
  readonly leases: ReadonlyArray<{ name: string; owner: string; fencingToken: number; expiresAt: number }>;
  readonly members: ReadonlyArray<{
    node: string;
    meta: Record<string, unknown>;
    lastHeartbeat: number;
    joinedAt: number;
  }>;
  readonly dlq: { readonly size: number };
  readonly supervision: SupervisionNode[];
  readonly breakers: ReadonlyArray<BreakerStatus & { source: string }>;
  readonly pipelines: ReadonlyArray<PipelineStatus & { source: string }>;
  /** Keys waiting to run again (oldest first) and hot keys (most items first), from the sources. */
  readonly keys: {
    readonly waiting: ReadonlyArray<KeyStatus & { source: string }>;
    readonly hot: ReadonlyArray<HotKeyStatus & { source: string }>;
  };
  /**
   * Delayed events waiting and schedules stored: read from the backend's delayed and schedule
   * stores (every built-in backend has both); from the sources only for a backend without them.
   * Absent when neither reports anything.
   */
  readonly scheduled?: ScheduledStatus;
}

/** A lease named `<group>/<topic>/<partition>` (as partitioned runners name them), split. */
export function parsePartitionLease(
  name: string,
): { group: string; topic: string; partition: number } | undefined {
  const parts = name.split('/');
  if (parts.length < 3) return undefined;
  const p = parts[parts.length - 1] as string;
  if (!/^\d+$/.test(p)) return undefined;
  const topic = parts[parts.length - 2] as string;
  const group = parts.slice(0, -2).join('/');
  if (group === '' || topic === '') return undefined;
  return { group, topic, partition: Number(p) };
}

/**
 * Reads the status of a backend (topics, consumer groups with lag and partition owners, leases,
 * members, DLQ size) plus in-process sources.
 *
 * The backend contract has no "list topics/groups" call, so topics are those given in
 * `options.topics`, those of partition leases (`<group>/<topic>/<partition>`), those of dead
 * letters, and those of an optional `listTopics()` method of the backend; groups are those with
 * committed offsets (`listGroups()`) or partition leases, each on the topics it consumed, and those
 * given in `options.groups` on the topics given in `options.topics`.
 */
export async function collectStatus(
  backend: Backend,
  options: CollectStatusOptions = {},
): Promise<StatusSnapshot> {
  const at = (options.clock ?? systemClock).now();
  const leases = await backend.leases.list('');
  const topicNames = new Set<string>(options.topics ?? []);
  const pairs = new Map<string, { group: string; topic: string }>();
  const owners = new Map<string, (typeof leases)[number]>();
  for (const l of leases) {
    const parsed = parsePartitionLease(l.name);
    if (!parsed) continue;
    topicNames.add(parsed.topic);
    pairs.set(JSON.stringify([parsed.group, parsed.topic]), { group: parsed.group, topic: parsed.topic });
    owners.set(l.name, l);
  }
  const scan: DeadLetter[] = await backend.dlq.list({ limit: options.dlqScan ?? 1000 });
  for (const d of scan) if (d.topic !== undefined) topicNames.add(d.topic);
  const lister = (backend as Partial<{ listTopics(): Promise<string[]> }>).listTopics;
  if (typeof lister === 'function') for (const t of await lister.call(backend)) topicNames.add(t);
  // Consumer groups with committed offsets, on the topics they consumed (not on every topic).
  if (typeof backend.listGroups === 'function')
    for (const g of await backend.listGroups()) {
      topicNames.add(g.topic);
      pairs.set(JSON.stringify([g.group, g.topic]), { group: g.group, topic: g.topic });
    }

  const topics: StatusSnapshot['topics'][number][] = [];
  const partitionsOf = new Map<string, number>();
  for (const topic of [...topicNames].sort()) {
    const info = await backend.topicInfo(topic);
    if (!info) continue;
    partitionsOf.set(topic, info.partitions);
    const partitions: TopicPartitionStatus[] = [];
    for (let p = 0; p < info.partitions; p++)
      partitions.push({ partition: p, endOffset: await backend.endOffset(topic, p) });
    topics.push({ topic, partitions, endOffsetTotal: partitions.reduce((a, x) => a + x.endOffset, 0) });
  }
  // A named group is shown where it has offsets or leases (discovered above) and on the topics
  // named with it; never on every topic, where it would add phantom unowned rows and lag. Only a
  // backend that cannot list its groups falls back to every known topic.
  const listsGroups = typeof backend.listGroups === 'function';
  for (const group of options.groups ?? [])
    for (const topic of listsGroups ? (options.topics ?? []) : partitionsOf.keys())
      if (partitionsOf.has(topic)) pairs.set(JSON.stringify([group, topic]), { group, topic });

  const groups: StatusSnapshot['groups'][number][] = [];
  const sortedPairs = [...pairs.values()].sort((a, b) =>
    a.group === b.group ? (a.topic < b.topic ? -1 : 1) : a.group < b.group ? -1 : 1,
  );
  for (const { group, topic } of sortedPairs) {
    const n = partitionsOf.get(topic);
    if (n === undefined) continue;
    const partitions: GroupPartitionStatus[] = [];
    for (let p = 0; p < n; p++) {
      const [endOffset, committed] = await Promise.all([
        backend.endOffset(topic, p),
        backend.committed(group, topic, p),
      ]);
      const lease = owners.get(`${group}/${topic}/${p}`);
      partitions.push({
        partition: p,
        endOffset,
        committed,
        lag: Math.max(0, endOffset - committed),
        ...(lease
          ? { owner: lease.owner, fencingToken: lease.fencingToken, leaseExpiresAt: lease.expiresAt }
          : {}),
      });
    }
    groups.push({
      group,
      topic,
      partitions,
      committedTotal: partitions.reduce((a, x) => a + x.committed, 0),
      lagTotal: partitions.reduce((a, x) => a + x.lag, 0),
    });
  }

  const members = await backend.membership.members(options.memberTimeoutMs ?? 30_000);
  const size = await backend.dlq.count();
  const supervision: SupervisionNode[] = [];
  const breakers: (BreakerStatus & { source: string })[] = [];
  const pipelines: (PipelineStatus & { source: string })[] = [];
  const waiting: (KeyStatus & { source: string })[] = [];
  const hot: (HotKeyStatus & { source: string })[] = [];
  const counts: { delayed?: number; schedules?: number } = {};
  const add = (field: 'delayed' | 'schedules', n: number | undefined) => {
    if (typeof n === 'number') counts[field] = (counts[field] ?? 0) + n;
  };
  for (const s of options.sources ?? []) {
    if (s.supervision) supervision.push(await s.supervision());
    if (s.breakers) for (const b of await s.breakers()) breakers.push({ ...b, source: s.name });
    if (s.pipelines) for (const p of await s.pipelines()) pipelines.push({ ...p, source: s.name });
    if (s.keys) {
      const k = await s.keys();
      for (const w of k.waiting) waiting.push({ ...w, source: s.name });
      for (const h of k.hot) hot.push({ ...h, source: s.name });
    }
    if (s.scheduled && (backend.delayed === undefined || backend.schedules === undefined)) {
      const c = await s.scheduled();
      if (backend.delayed === undefined) add('delayed', c.delayed);
      if (backend.schedules === undefined) add('schedules', c.schedules);
    }
  }
  if (backend.delayed !== undefined || backend.schedules !== undefined) {
    const perTopic = await timeCounts(backend);
    if (backend.delayed !== undefined)
      add(
        'delayed',
        perTopic.reduce((n, t) => n + t.delayed, 0),
      );
    if (backend.schedules !== undefined)
      add(
        'schedules',
        perTopic.reduce((n, t) => n + t.schedules, 0),
      );
  }
  waiting.sort((a, b) => a.since - b.since);
  hot.sort((a, b) => b.items - a.items);
  return {
    backend: backend.kind,
    at,
    topics,
    groups,
    leases: leases.map((l) => ({
      name: l.name,
      owner: l.owner,
      fencingToken: l.fencingToken,
      expiresAt: l.expiresAt,
    })),
    members: members.map((m) => ({
      node: m.node,
      meta: m.meta,
      lastHeartbeat: m.lastHeartbeat,
      joinedAt: m.joinedAt,
    })),
    dlq: { size },
    supervision,
    breakers,
    pipelines,
    keys: { waiting, hot },
    ...(Object.keys(counts).length > 0 ? { scheduled: counts } : {}),
  };
}
