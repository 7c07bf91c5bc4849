// Bench: end-to-end job throughput on PostgreSQL, Sluice append + partitionedRunner vs pg-boss and graphile-worker.
/**
 * End-to-end job throughput on the local PostgreSQL server: N jobs are enqueued, then processed
 * by a no-op handler, and the clock runs from the first job handled to the last job whose
 * completion is durable in the database. Side by side in one run:
 *
 * - Sluice: `backend.append` (batches of 1000) to a topic with 8 partitions, consumed by one
 *   `partitionedRunner` (each owned partition is processed in offset order; the partitions run
 *   concurrently). Done = the sum of `committed` counts reaches N (a commit resolves after the
 *   offset is written).
 * - pg-boss 10: `insert` (batches of 1000), `work` with a no-op handler. Done = N rows in state
 *   `completed`.
 * - graphile-worker: `addJobs` (batches of 1000), `run` with a no-op task. Done = the jobs table
 *   is empty (completed jobs are deleted).
 *
 * For the peers, the database is polled every POLL_MS only after the last job has been handed to
 * the handler, so the poll adds at most POLL_MS and no load while jobs are processed.
 *
 * Each round uses a fresh schema (dropped afterwards). Run:
 * `npx tsc -p tsconfig.build.json && node --import tsx bench/postgres-jobs.bench.ts`
 * (env `SLUICE_BENCH_POSTGRES_URL`, `BENCH_JOBS` default 10000, `BENCH_ROUNDS` default 2).
 * Writes bench/results/postgres-jobs.json.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { environment, loadSluice, markdownTable, writeBenchResult } from './run.ts';

const DB_URL = process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_JOBS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ENQUEUE_BATCH = 1000;
const POLL_MS = 10;
/** A contender that has not finished after this long is reported as timed out. */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 40_000);

const sluice = await loadSluice();
const { createPostgresBackend } = (await import(
  new URL('../dist/backend/postgres/index.js', import.meta.url).href
)) as typeof import('../src/backend/postgres/index.ts');

const admin = new pg.Pool({ connectionString: DB_URL, max: 1 });
const payload = (i: number) => ({ orderId: `o-${i}`, customer: `c-${i % 97}`, total: i * 1.5 });
const silentLogger = new Logger(() => () => {});

/** Tracks handler calls: the time of the first, and a promise for the N-th. */
class Progress {
  first = 0;
  handled = 0;
  private allHandled!: () => void;
  readonly handledAll = new Promise<void>((r) => {
    this.allHandled = r;
  });
  hit(count = 1): void {
    if (this.handled === 0) this.first = performance.now();
    this.handled += count;
    if (this.handled >= N) this.allHandled();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `remaining()` every POLL_MS until it returns 0; returns the time it did. */
async function until(remaining: () => Promise<number>): Promise<number> {
  for (;;) {
    if ((await remaining()) === 0) return performance.now();
    await sleep(POLL_MS);
  }
}

/** Resolves with `p`'s value, or with `undefined` when it has not settled TIMEOUT_MS after `from`. */
function withTimeout<T>(p: Promise<T>, from: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    t = setTimeout(() => resolve(undefined), Math.max(0, from + TIMEOUT_MS - performance.now()));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** What one round measured: `jobs` durable completions in `secs` (`jobs < N` when it timed out). */
interface Measured {
  jobs: number;
  secs: number;
  /** Sluice rows: p50/p99 of each job's handler return → its commit durable, in ms. */
  durableMs?: { p50: number; p99: number };
}

/**
 * A peer's round: once every job reached the handler, polls `remaining()` (jobs not yet
 * completed in the database) until it is 0; times out TIMEOUT_MS after `started`.
 */
async function peerFinished(
  progress: Progress,
  remaining: () => Promise<number>,
  started: number,
): Promise<Measured> {
  const end = await withTimeout(
    progress.handledAll.then(() => until(remaining)),
    started,
  );
  if (end === undefined)
    return { jobs: N - (await remaining()), secs: (performance.now() - progress.first) / 1000 };
  return { jobs: N, secs: (end - progress.first) / 1000 };
}

interface Contender {
  name: string;
  settings: string;
  /** Enqueues N jobs into `schema`, processes them, returns seconds from first handled to last durable completion. */
  run(schema: string): Promise<Measured>;
}

function sluiceRow(partitions: number, batchSize: number, commitDelay = 0): Contender {
  return {
    name: `sluice partitionedRunner, ${partitions} partition${partitions === 1 ? '' : 's'}, batchSize ${batchSize}${commitDelay > 0 ? `, commitDelay ${commitDelay}ms` : ''}`,
    settings: `1 runner, ${partitions} partition${partitions === 1 ? '' : 's'}, batchSize ${batchSize} (commit per ${batchSize === 1 ? 'job' : `batch of ≤${batchSize}`}; the commits of all partitions in one transaction per group commit${commitDelay > 0 ? `, gathered for ${commitDelay} ms` : ''})`,
    async run(schema) {
      const backend = await createPostgresBackend({ connectionString: DB_URL, schema });
      try {
        await backend.ensureTopic('jobs', { partitions });
        for (let i = 0; i < N; i += ENQUEUE_BATCH) {
          const n = Math.min(ENQUEUE_BATCH, N - i);
          await backend.append(
            'jobs',
            Array.from({ length: n }, (_, j) => ({ key: `k-${i + j}`, payload: payload(i + j) })),
          );
        }
        const progress = new Progress();
        const handledAt = new Map<string, number>();
        const latencies: number[] = [];
        let committed = 0;
        let lastCommit = 0;
        let resolveDone!: () => void;
        const done = new Promise<true>((r) => {
          resolveDone = () => r(true);
        });
        const runner = sluice.partitionedRunner({
          backend,
          group: 'bench',
          topic: 'jobs',
          nodeName: 'bench-1',
          batchSize,
          commitDelay,
          handler: (e) => {
            handledAt.set(`${e.partition}:${e.offset}`, performance.now());
            progress.hit();
          },
        });
        runner.on('committed', (e) => {
          const now = performance.now();
          for (let o = e.offset - e.count; o < e.offset; o++) {
            const at = handledAt.get(`${e.partition}:${o}`);
            if (at !== undefined) latencies.push(now - at);
          }
          committed += e.count;
          if (committed >= N) {
            lastCommit = performance.now();
            resolveDone();
          }
        });
        const started = performance.now();
        await runner.start();
        try {
          if ((await withTimeout(done, started)) === undefined) {
            return { jobs: committed, secs: (performance.now() - progress.first) / 1000 };
          }
        } finally {
          await runner.stop();
        }
        latencies.sort((a, b) => a - b);
        const q = (f: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? 0;
        return {
          jobs: N,
          secs: (lastCommit - progress.first) / 1000,
          durableMs: { p50: q(0.5), p99: q(0.99) },
        };
      } finally {
        await backend.close();
      }
    },
  };
}

interface PgBossRow {
  batchSize: number;
  workers: number;
  /** Calls `notifyWorker` after each batch so the worker fetches again at once instead of waiting out the polling interval. */
  notify: boolean;
}

function pgBossRow({ batchSize, workers, notify }: PgBossRow): Contender {
  return {
    name: `pg-boss work, batchSize ${batchSize}${workers > 1 ? `, ${workers} workers` : ''}${notify ? ', notifyWorker' : ''}`,
    settings: `${workers} work() worker${workers > 1 ? 's' : ''}, batchSize ${batchSize}, pollingIntervalSeconds 0.5 (the minimum)${notify ? ', handler calls notifyWorker(id) to skip the polling wait' : ''}; completion per fetched batch`,
    async run(schema) {
      const boss = new PgBoss({ connectionString: DB_URL, schema, supervise: false, schedule: false });
      boss.on('error', () => {});
      await boss.start();
      try {
        await boss.createQueue('jobs');
        for (let i = 0; i < N; i += ENQUEUE_BATCH) {
          const n = Math.min(ENQUEUE_BATCH, N - i);
          await boss.insert(Array.from({ length: n }, (_, j) => ({ name: 'jobs', data: payload(i + j) })));
        }
        const progress = new Progress();
        const started = performance.now();
        const remaining = async () => {
          const r = await admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM "${schema}".job WHERE name = 'jobs' AND state <> 'completed'`,
          );
          return Number(r.rows[0]!.n);
        };
        for (let w = 0; w < workers; w++) {
          let id = '';
          id = await boss.work('jobs', { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
            progress.hit(jobs.length);
            if (notify) boss.notifyWorker(id);
          });
        }
        return await peerFinished(progress, remaining, started);
      } finally {
        await boss.stop({ graceful: false, wait: true });
      }
    },
  };
}

function graphileRow(concurrency: number, tuned: boolean): Contender {
  return {
    name: `graphile-worker run, concurrency ${concurrency}${tuned ? ', localQueue + batched completion' : ''}`,
    settings: tuned
      ? `concurrency ${concurrency}, localQueue.size 100, completeJobBatchDelay 0 (its documented batching options)`
      : `concurrency ${concurrency}, defaults (one fetch and one completion per job, LISTEN/NOTIFY)`,
    async run(schema) {
      const utils = await makeWorkerUtils({ connectionString: DB_URL, schema, logger: silentLogger });
      try {
        await utils.migrate();
        for (let i = 0; i < N; i += ENQUEUE_BATCH) {
          const n = Math.min(ENQUEUE_BATCH, N - i);
          await utils.addJobs(
            Array.from({ length: n }, (_, j) => ({ identifier: 'noop', payload: payload(i + j) })),
          );
        }
      } finally {
        await utils.release();
      }
      const progress = new Progress();
      const remaining = async () => {
        const r = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"._private_jobs`);
        return Number(r.rows[0]!.n);
      };
      const started = performance.now();
      const runner = await run({
        connectionString: DB_URL,
        schema,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        logger: silentLogger,
        taskList: {
          noop: async () => {
            progress.hit();
          },
        },
        ...(tuned ? { preset: { worker: { localQueue: { size: 100 }, completeJobBatchDelay: 0 } } } : {}),
      });
      try {
        return await peerFinished(progress, remaining, started);
      } finally {
        await runner.stop();
      }
    },
  };
}

const contenders: Contender[] = [
  sluiceRow(8, 100),
  sluiceRow(8, 1000),
  sluiceRow(8, 1),
  sluiceRow(64, 1),
  sluiceRow(64, 1, 2),
  sluiceRow(256, 1),
  sluiceRow(256, 1, 2),
  sluiceRow(1, 1),
  pgBossRow({ batchSize: 1, workers: 1, notify: true }),
  pgBossRow({ batchSize: 100, workers: 1, notify: true }),
  pgBossRow({ batchSize: 1000, workers: 1, notify: false }),
  graphileRow(1, false),
  graphileRow(8, false),
  graphileRow(8, true),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let schemaSeq = 0;
const only = process.env.BENCH_ONLY;

async function main(): Promise<void> {
  const results: {
    c: Contender;
    rate: number | undefined;
    durable: string[];
    partial?: Measured;
    error?: string;
  }[] = [];
  for (const c of contenders) {
    if (only !== undefined && !c.name.includes(only)) continue;
    const rates: number[] = [];
    const durable: string[] = [];
    let error: string | undefined;
    let partial: Measured | undefined;
    for (let r = 0; r < ROUNDS && partial === undefined; r++) {
      const schema = `bench_jobs_${process.pid}_${++schemaSeq}`;
      try {
        const m = await c.run(schema);
        rates.push(m.jobs / m.secs);
        if (m.durableMs) durable.push(`${m.durableMs.p50.toFixed(1)}/${m.durableMs.p99.toFixed(1)}`);
        if (m.jobs < N) partial = m; // timed out: one round only
      } catch (e) {
        error = (e as Error).message;
        break;
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
    const rate = error === undefined ? median(rates) : undefined;
    process.stderr.write(
      `${c.name}: ${error ?? `${rates.map((x) => Math.round(x)).join(', ')} jobs/s (median ${Math.round(rate!)})${partial ? ` partial ${partial.jobs}/${N}` : ''}`}${durable.length > 0 ? `; handled → durable p50/p99 ms ${durable.join(', ')}` : ''}\n`,
    );
    results.push({
      c,
      rate,
      durable,
      ...(partial ? { partial } : {}),
      ...(error === undefined ? {} : { error }),
    });
  }
  const peers = results.filter((r) => !r.c.name.startsWith('sluice') && r.rate !== undefined && !r.partial);
  const best = peers.reduce<(typeof results)[number] | undefined>(
    (a, r) => (a === undefined || r.rate! > a.rate! ? r : a),
    undefined,
  );
  const columns = [
    'implementation',
    'settings',
    'jobs/s',
    's for all jobs',
    'vs best peer',
    'handled → durable p50/p99 ms',
  ];
  const rows: (string | number)[][] = results.map(({ c, rate, partial, error, durable }) => [
    c.name,
    c.settings,
    rate === undefined ? `failed: ${error}` : Math.round(rate),
    rate === undefined
      ? '-'
      : partial
        ? `did not finish: ${partial.jobs.toLocaleString('en-US')} done in ${partial.secs.toFixed(1)} s`
        : (N / rate).toFixed(2),
    rate === undefined || best === undefined ? '-' : `${(rate / best.rate!).toFixed(2)}x`,
    durable.length === 0 ? '-' : durable.join(', '),
  ]);
  const title = `PostgreSQL end-to-end job throughput — ${N.toLocaleString('en-US')} no-op jobs: Sluice partitionedRunner vs pg-boss work vs graphile-worker run`;
  const notes = [
    `Jobs/s = N / (time from the first job handled to the last completion durable in the database); enqueueing (batches of ${ENQUEUE_BATCH}) and worker start-up are not timed. Median of ${ROUNDS} rounds, fresh schema each round, dropped afterwards.`,
    `A contender not done ${TIMEOUT_MS / 1000} s after its start is stopped; its row gives the jobs completed per second up to then (one round).`,
    `Best peer: ${best === undefined ? 'none finished' : best.c.name}.`,
    'Sluice commits an offset per batch per partition (batchSize 100/1000 rows: one commit covers up to that many jobs); the batchSize 1 rows commit after every job, like the peers that complete each job. With 8 partitions one runner processes the 8 partitions concurrently (each in order); the 1-partition batchSize 1 row is strictly one job at a time.',
    'pg-boss 10 workers fetch once per pollingIntervalSeconds (minimum 0.5 s) unless notified: without notifyWorker a worker handles at most batchSize jobs per 0.5 s. pg-boss completes each fetched batch with one query (not awaited by its worker loop).',
    'Rows that finish in well under a second (Sluice batchSize 100/1000, pg-boss batchSize 100, graphile-worker with localQueue) are short windows: treat their ratios as approximate (round-to-round spread is printed while the bench runs).',
    'Handled → durable (Sluice rows): per job, from its handler returning to its offset commit being durable (the `committed` event, after the group commit transaction), p50/p99 per round. Sluice batchSize 1 rows commit after every job; the commits of all partitions of the runner go in one transaction (group commit: written at once, or together right after the transaction in flight; with commitDelay gathered for that long).',
    'graphile-worker deletes completed jobs; concurrency N runs N jobs at once in one process.',
    `Peers' last completion is observed by polling the database every ${POLL_MS} ms once the last job has been handed to the handler (adds at most ${POLL_MS} ms).`,
    'Local PostgreSQL 15 on the same 2-CPU machine (loopback, default server settings, synchronous_commit on); client and server share the 2 CPUs with whatever else runs on the machine, see the load average.',
  ];
  console.log(`## ${title}\n\n${markdownTable(columns, rows)}\n`);
  for (const note of notes) console.log(`- ${note}`);
  if (only === undefined) {
    writeBenchResult('postgres-jobs', {
      title,
      columns,
      rows,
      notes,
      measuredAt: new Date().toISOString(),
      environment: environment(),
    });
  }
  await admin.end();
}

await main();
