// Bench: enqueue-to-start latency of an idle worker, Sluice on Redis and PostgreSQL vs BullMQ, pg-boss and graphile-worker.
/**
 * Enqueue-to-start latency: one job at a time is enqueued to an idle worker (the previous job has
 * started and the worker sat idle for `gapMs`); latency = the handler's start − the moment just
 * before the enqueue call, in the same process. Sluice (`backend.append` + a `partitionedRunner`
 * with default settings, woken by its backend's `watch`) on Redis and PostgreSQL vs BullMQ
 * (`Queue.add` + `Worker`) on Redis, and pg-boss (`send` + `work`, its shortest polling interval)
 * and graphile-worker (`addJob` + `run`, LISTEN/NOTIFY) on PostgreSQL. Each contender runs in a
 * fresh process (`bench/fixtures/latency/contender.ts`). Target: Sluice ≤ the best peer on the
 * same server. Sluice runs from the compiled package (`dist/`), as the other benches.
 *
 * Run: `node --import tsx bench/latency.bench.ts` (env `BENCH_LATENCY_N`, `BENCH_LATENCY_GAP_MS`,
 * `BENCH_PG`, `BENCH_REDIS`).
 */
import { join } from 'node:path';
import { runContenderProcess } from './fixtures/contenderProcess.ts';
import type { LatencyConfig } from './fixtures/latency/contender.ts';
import { writeBenchResult } from './run.ts';

const N = Number(process.env.BENCH_LATENCY_N ?? 300);
const WARMUP = 20;
const GAP_MS = Number(process.env.BENCH_LATENCY_GAP_MS ?? 20);
const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const fixture = join(import.meta.dirname, 'fixtures', 'latency', 'contender.ts');

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}

interface Measured {
  p50: number;
  p99: number;
  max: number;
}

function run(contender: LatencyConfig['contender']): Measured {
  const cfg: LatencyConfig = {
    contender,
    n: N,
    warmup: WARMUP,
    gapMs: GAP_MS,
    pgUrl: PG_URL,
    redisUrl: REDIS_URL,
  };
  const sorted = runContenderProcess(fixture, cfg, 'latencies').sort((a, b) => a - b);
  const m = { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
  console.log(
    `${contender}: p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, max ${m.max.toFixed(2)} ms`,
  );
  return m;
}

const servers = [
  { server: 'Redis', ours: 'sluice-redis', peers: [['bullmq', 'BullMQ Queue.add + Worker']] },
  {
    server: 'PostgreSQL',
    ours: 'sluice-postgres',
    peers: [
      ['graphile-worker', 'graphile-worker addJob + run'],
      ['pg-boss', 'pg-boss send + work (pollingIntervalSeconds 0.5)'],
    ],
  },
] as const;

const rows: (string | number)[][] = [];
const ms = (x: number) => Number(x.toFixed(2));
for (const { server, ours, peers } of servers) {
  const a = run(ours);
  const measured = peers.map(([id, name]) => ({ name, m: run(id) }));
  const best = Math.min(...measured.map((p) => p.m.p50));
  const bestP99 = Math.min(...measured.map((p) => p.m.p99));
  const vs = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(2)}x` : '-');
  rows.push([
    `${server}: Sluice append + partitionedRunner`,
    ms(a.p50),
    ms(a.p99),
    ms(a.max),
    vs(a.p50, best),
    vs(a.p99, bestP99),
  ]);
  for (const p of measured)
    rows.push([
      `${server}: ${p.name}`,
      ms(p.m.p50),
      ms(p.m.p99),
      ms(p.m.max),
      vs(p.m.p50, best),
      vs(p.m.p99, bestP99),
    ]);
}

writeBenchResult('latency', {
  title: `Enqueue-to-start latency — ${N} jobs one at a time to an idle worker (${GAP_MS} ms idle before each)`,
  columns: ['implementation', 'p50 ms', 'p99 ms', 'max ms', 'p50 vs best peer', 'p99 vs best peer'],
  rows,
  notes: [
    'latency = handler start − just before the enqueue call, same process (lower is better); the first 20 jobs of each contender warm up and are not counted',
    'Sluice: partitionedRunner defaults (8 partitions, one runner; Redis wakes through pub/sub, PostgreSQL through LISTEN/NOTIFY, pollInterval 1 s as the fallback)',
    'BullMQ: Worker defaults (blocking wait on Redis); graphile-worker: run defaults, concurrency 1 (LISTEN/NOTIFY); pg-boss 10: work with pollingIntervalSeconds 0.5, its minimum (it has no wake-up on send)',
    'target: Sluice ≤ the best peer on the same server (ratios < 1.00x are better than the best peer)',
  ],
});
