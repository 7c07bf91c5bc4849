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
});

interface Tracked {
  readonly backend: Backend;
  readonly groups: GroupTopics[];
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
 * (end offset − committed offset) and `sluice_topic_end_offset{backend, topic, partition}`.
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
  const entry: Tracked = { backend, groups: o.groups ?? [] };
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
    'sluice_topic_end_offset',
    () =>
      new Gauge({
        name: 'sluice_topic_end_offset',
        help: 'Next offset to be assigned in a partition (events appended).',
        labelNames: ['backend', 'topic', 'partition'],
        registers,
        async collect() {
          for (const [name, t] of all) {
            for (const topic of new Set(t.groups.flatMap((g) => g.topics))) {
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
          for (const [name, t] of all) {
            for (const g of t.groups) {
              for (const topic of g.topics) {
                for (const row of await partitionLags(t.backend, g.group, topic)) {
                  const partition = String(row.partition);
                  this.set({ backend: name, group: g.group, topic, partition }, row.lag);
                }
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
