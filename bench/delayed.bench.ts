// Bench: delayed-job lateness p50/p99, Sluice on Redis and PostgreSQL vs BullMQ delayed jobs and pg-boss startAfter.
/**
 * Delayed-job lateness: N jobs due over a spread of S ms (the first L ms after scheduling), each
 * consumed by an idle worker; lateness = the moment the handler starts − the job's due time.
 * Sluice (delayed events released by its scheduler, consumed by a partitioned runner) on Redis and
 * PostgreSQL vs BullMQ delayed jobs (Redis) and pg-boss `startAfter` (PostgreSQL, its shortest
 * polling interval, 0.5 s). Each contender runs in a fresh process
 * (`bench/fixtures/delayed/contender.ts`). Target: Sluice p99 ≤ 50 ms and ≤ the peer's.
 *
 * Run: `node --import tsx bench/delayed.bench.ts` (env `BENCH_DELAYED_N`, `BENCH_DELAYED_SPREAD_MS`,
 * `BENCH_PG`, `BENCH_REDIS`).
 */
import { join } from 'node:path';
import { runContenderProcess } from './fixtures/contenderProcess.ts';
import type { ContenderConfig } from './fixtures/delayed/contender.ts';
import { environment, writeBenchResult } from './run.ts';

const N = Number(process.env.BENCH_DELAYED_N ?? 5000);
const SPREAD_MS = Number(process.env.BENCH_DELAYED_SPREAD_MS ?? 5000);
const LEAD_MS = 1500;
const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const fixture = join(import.meta.dirname, 'fixtures', 'delayed', 'contender.ts');

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}

function run(contender: ContenderConfig['contender']): {
  p50: number;
  p99: number;
  max: number;
  early: number;
} {
  const cfg: ContenderConfig = {
    contender,
    n: N,
    spreadMs: SPREAD_MS,
    leadMs: LEAD_MS,
    pgUrl: PG_URL,
    redisUrl: REDIS_URL,
  };
  const sorted = runContenderProcess(fixture, cfg, 'lateness').sort((a, b) => a - b);
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    early: sorted.filter((x) => x < 0).length,
  };
}

const pairs = [
  ['Redis', 'sluice-redis', 'bullmq', 'BullMQ delayed jobs'],
  ['PostgreSQL', 'sluice-postgres', 'pg-boss', 'pg-boss startAfter'],
] as const;
const rows: (string | number)[][] = [];
for (const [server, ours, peer, peerName] of pairs) {
  const a = run(ours);
  const b = run(peer);
  const ratio = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(2)}x` : '-');
  rows.push([`${server}: Sluice scheduler`, a.p50, a.p99, a.max, a.early, ratio(a.p99, b.p99)]);
  rows.push([`${server}: ${peerName}`, b.p50, b.p99, b.max, b.early, '1.00x']);
}
writeBenchResult('delayed', {
  title: `Delayed-job lateness — ${N.toLocaleString('en-US')} jobs due over ${SPREAD_MS} ms, idle worker`,
  columns: ['implementation', 'p50 ms', 'p99 ms', 'max ms', 'early', 'p99 vs peer'],
  rows,
  notes: [
    'lateness = handler start − due time, in ms (lower is better; negative would be early)',
    'Sluice: createScheduler (default 250 ms poll, wakes at the next due time) + partitionedRunner (pollInterval 100 ms, woken by appends)',
    'pg-boss: pollingIntervalSeconds 0.5 (its minimum), batchSize 1000; BullMQ: Worker concurrency 16',
    'target: Sluice p99 ≤ 50 ms and ≤ the peer on the same server',
  ],
  measuredAt: new Date().toISOString(),
  environment: environment(),
});
