// Prometheus gauges read from backends at scrape time: DLQ size, topic end offsets, consumer-group lag.
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Backend } from '../backend/Backend.ts';
import { validate } from '../core/validate.ts';
import { metricOnce } from './registryMetrics.ts';

/** A consumer group and the topics it reads. */
export interface GroupTopics {
  group: string;
  topics: string[];
}

/** Options of {@link collectBackendMetrics}. */
export interface BackendMetricsOptions {
  /** The registry to register on. */
  registry: Registry;
  /** Consumer groups and their topics whose lag is exported. */
  groups?: GroupTopics[];
  /** The `backend` label; default the backend's `kind`. */
  name?: string;
  /**
   * Also export, at each scrape, every topic of the backend (`listTopics()`) and every consumer
   * group on the topics it consumed (`listGroups()` and partition leases `<group>/<topic>/<n>`),
   * besides `groups`. Default false.
   */
  discover?: boolean;
}

const optionsSchema = z.object({
  registry: z.custom<Registry>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Registry).metrics === 'function',
    'a prom-client Registry',
  ),
  groups: z
    .array(
      z.object({
        group: z.string().min(1, 'a non-empty string'),
        topics: z.array(z.string().min(1, 'a non-empty string'), { error: 'an array of topic names' }),
      }),
      { error: 'an array of {group, topics}' },
    )
    .optional(),
  name: z.string().min(1, 'a non-empty string').optional(),
  discover: z.boolean('true or false').optional(),
});

interface Tracked {
  readonly backend: Backend;
  readonly groups: GroupTopics[];
  readonly discover: boolean;
}

/** The (group, topic) pairs and topics a scrape exports: the configured ones, plus discovered ones. */
async function scope(t: Tracked): Promise<{ pairs: [string, string][]; topics: string[] }> {
  const pairs = new Map<string, [string, string]>();
  const topics = new Set<string>();
  const add = (group: string, topic: string) => {
    pairs.set(JSON.stringify([group, topic]), [group, topic]);
    topics.add(topic);
  };
  for (const g of t.groups) for (const topic of g.topics) add(g.group, topic);
  if (t.discover) {
    const b = t.backend;
    if (typeof b.listTopics === 'function') for (const topic of await b.listTopics()) topics.add(topic);
    if (typeof b.listGroups === 'function') for (const g of await b.listGroups()) add(g.group, g.topic);
    for (const l of await b.leases.list('')) {
      const parts = l.name.split('/');
      if (parts.length < 3 || !/^\d+$/.test(parts[parts.length - 1] as string)) continue;
      const topic = parts[parts.length - 2] as string;
      const group = parts.slice(0, -2).join('/');
      if (group !== '' && topic !== '' && (await b.topicInfo(topic))) add(group, topic);
    }
  }
  return { pairs: [...pairs.values()].sort(), topics: [...topics].sort() };
}

const trackedByRegistry = new WeakMap<Registry, Map<string, Tracked>>();

/** One lag figure of a consumer group on a partition. */
export interface PartitionLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly endOffset: number;
  readonly committed: number;
  /** `endOffset - committed` (never negative). */
  readonly lag: number;
}

/**
 * Lag of a group on every partition of a topic: end offset minus committed offset. A missing
 * topic gives no rows.
 */
export async function partitionLags(backend: Backend, group: string, topic: string): Promise<PartitionLag[]> {
  const info = await backend.topicInfo(topic);
  if (!info) return [];
  const rows: PartitionLag[] = [];
  for (let p = 0; p < info.partitions; p++) {
    const [endOffset, committed] = await Promise.all([
      backend.endOffset(topic, p),
      backend.committed(group, topic, p),
    ]);
    rows.push({ group, topic, partition: p, endOffset, committed, lag: Math.max(0, endOffset - committed) });
  }
  return rows;
}

/**
 * Exports backend figures on `registry`, read from the backend at each scrape:
 * `sluice_dlq_size{backend}` (dead letters), `sluice_consumer_lag{backend, group, topic, partition}`
 * (end offset − committed offset), `sluice_topic_end_offset{backend, topic, partition}` and
 * `sluice_topic_dlq_size{backend, topic}`; with `discover`, for every topic and consumer group of
 * the backend, not only the configured ones.
 * Several backends may share a registry (distinct `name`s). Returns a function that stops
 * collecting (the gauges then keep their last values).
 *
 * @example
 * ```ts
 * collectBackendMetrics(backend, { registry, groups: [{ group: 'billing', topics: ['orders'] }] });
 * ```
 */
export function collectBackendMetrics(backend: Backend, options: BackendMetricsOptions): () => void {
  const o = validate(optionsSchema, options, 'backendMetrics');
  const label = o.name ?? backend.kind;
  let tracked = trackedByRegistry.get(o.registry);
  if (!tracked) trackedByRegistry.set(o.registry, (tracked = new Map()));
  const all = tracked;
  const entry: Tracked = { backend, groups: o.groups ?? [], discover: o.discover ?? false };
  all.set(label, entry);
  const registers = [o.registry];
  metricOnce(
    o.registry,
    'sluice_dlq_size',
    () =>
      new Gauge({
        name: 'sluice_dlq_size',
        help: 'Entries in the dead-letter queue.',
        labelNames: ['backend'],
        registers,
        async collect() {
          for (const [name, t] of all) this.set({ backend: name }, await t.backend.dlq.count());
        },
      }),
  );
  metricOnce(
    o.registry,
    'sluice_topic_dlq_size',
    () =>
      new Gauge({
        name: 'sluice_topic_dlq_size',
        help: 'Entries in the dead-letter queue that came from a topic.',
        labelNames: ['backend', 'topic'],
        registers,
        async collect() {
          this.reset();
          for (const [name, t] of all)
            for (const topic of (await scope(t)).topics)
              this.set({ backend: name, topic }, await t.backend.dlq.count({ topic }));
        },
      }),
  );
  metricOnce(
    o.registry,
    'sluice_topic_end_offset',
    () =>
      new Gauge({
        name: 'sluice_topic_end_offset',
        help: 'Next offset to be assigned in a partition (events appended).',
        labelNames: ['backend', 'topic', 'partition'],
        registers,
        async collect() {
          this.reset();
          for (const [name, t] of all) {
            for (const topic of (await scope(t)).topics) {
              const info = await t.backend.topicInfo(topic);
              for (let p = 0; p < (info?.partitions ?? 0); p++)
                this.set({ backend: name, topic, partition: String(p) }, await t.backend.endOffset(topic, p));
            }
          }
        },
      }),
  );
  metricOnce(
    o.registry,
    'sluice_consumer_lag',
    () =>
      new Gauge({
        name: 'sluice_consumer_lag',
        help: 'Events not yet committed by a consumer group: end offset minus committed offset.',
        labelNames: ['backend', 'group', 'topic', 'partition'],
        registers,
        async collect() {
          this.reset();
          for (const [name, t] of all) {
            for (const [group, topic] of (await scope(t)).pairs) {
              for (const row of await partitionLags(t.backend, group, topic)) {
                this.set({ backend: name, group, topic, partition: String(row.partition) }, row.lag);
              }
            }
          }
        },
      }),
  );
  return () => {
    if (all.get(label) === entry) all.delete(label);
  };
}
