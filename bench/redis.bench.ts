// Bench: Redis job throughput, Sluice partitionedRunner and a commit-per-event loop vs BullMQ at concurrency 1 and 32.
/**
 * Redis job throughput: Sluice on its Redis backend side by side with BullMQ on the same local
 * server. Each contender gets a fresh key prefix, enqueues JOBS small JSON jobs in batches of
 * 1000, then processes them with a no-op async handler at concurrency 1 and 32. Keys are
 * deleted afterwards.
 *
 * Sluice consumes with the cluster's `partitionedRunner` (one runner process owning every
 * partition; one event at a time per partition, so concurrency = partition count; offsets
 * committed per batch of 100). A second Sluice row at concurrency 1 is a plain consume loop over
 * the backend that commits after every event — the same one-acknowledgement-per-job work as
 * BullMQ's completion. Throughput is measured from the first handled job to the last
 * acknowledged one (commit for Sluice, `completed` for BullMQ), so start-up is excluded.
 *
 * Run: `node --import tsx bench/redis.bench.ts` (env `BENCH_JOBS` default 20000, `BENCH_ROUNDS`
 * default 2). Writes bench/results/redis.json.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createRedisBackend, deleteRedisPrefix } from '../src/backend/redis/index.ts';
import { partitionedRunner } from '../src/cluster/index.ts';
import { writeBenchResult } from './run.ts';

const URL = process.env.SLUICE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BATCH = 1000;
const RUN = `sluice-bench:${process.pid}`;
let seq = 0;

const payload = (i: number) => ({ orderId: `o-${i}`, customer: `c-${i % 97}`, total: i * 1.5 });
const noop = async () => {};

interface Measured {
  enqueuePerSec: number;
  processPerSec: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Sluice: append in batches, then one partitionedRunner with `concurrency` partitions. */
async function sluiceRunner(concurrency: number): Promise<Measured> {
  const prefix = `${RUN}:s${++seq}`;
  const backend = createRedisBackend({ url: URL, prefix });
  try {
    await backend.ensureTopic('jobs', { partitions: concurrency });
    const t0 = performance.now();
    for (let b = 0; b < JOBS; b += BATCH) {
      const n = Math.min(BATCH, JOBS - b);
      await backend.append(
        'jobs',
        Array.from({ length: n }, (_, i) => ({ key: `k-${b + i}`, payload: payload(b + i) })),
      );
    }
    const enqueueMs = performance.now() - t0;
    let first = 0;
    let committed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const runner = partitionedRunner({
      backend,
      group: 'bench',
      topic: 'jobs',
      heartbeat: '200ms',
      failureTimeout: '2s',
      handler: async () => {
        if (first === 0) first = performance.now();
        await noop();
      },
    });
    let last = 0;
    runner.on('committed', (e) => {
      committed += e.count;
      if (committed >= JOBS) {
        last = performance.now();
        resolveDone();
      }
    });
    await runner.start();
    await done;
    await runner.stop();
    return { enqueuePerSec: (JOBS / enqueueMs) * 1000, processPerSec: (JOBS / (last - first)) * 1000 };
  } finally {
    await backend.close();
    await deleteRedisPrefix({ url: URL, prefix });
  }
}

/** Sluice: a plain read/commit loop on one partition, committing after every event. */
async function sluiceLoopCommitEach(): Promise<Measured> {
  const prefix = `${RUN}:l${++seq}`;
  const backend = createRedisBackend({ url: URL, prefix });
  try {
    await backend.ensureTopic('jobs', { partitions: 1 });
    const t0 = performance.now();
    for (let b = 0; b < JOBS; b += BATCH) {
      const n = Math.min(BATCH, JOBS - b);
      await backend.append(
        'jobs',
        Array.from({ length: n }, (_, i) => ({ payload: payload(b + i) })),
      );
    }
    const enqueueMs = performance.now() - t0;
    const first = performance.now();
    let offset = await backend.committed('bench', 'jobs', 0);
    while (offset < JOBS) {
      const events = await backend.read('jobs', 0, offset, 100);
      for (const e of events) {
        await noop();
        await backend.commit('bench', 'jobs', 0, e.offset + 1);
        offset = e.offset + 1;
      }
    }
    const last = performance.now();
    return { enqueuePerSec: (JOBS / enqueueMs) * 1000, processPerSec: (JOBS / (last - first)) * 1000 };
  } finally {
    await backend.close();
    await deleteRedisPrefix({ url: URL, prefix });
  }
}

/** BullMQ: addBulk in batches, then one Worker with `concurrency`. */
async function bullmq(concurrency: number): Promise<Measured> {
  const prefix = `${RUN}:b${++seq}`;
  const connection = new Redis(URL, { maxRetriesPerRequest: null });
  const queue = new Queue('jobs', { connection, prefix });
  try {
    const t0 = performance.now();
    for (let b = 0; b < JOBS; b += BATCH) {
      const n = Math.min(BATCH, JOBS - b);
      await queue.addBulk(
        Array.from({ length: n }, (_, i) => ({
          name: 'job',
          data: payload(b + i),
          opts: { removeOnComplete: true },
        })),
      );
    }
    const enqueueMs = performance.now() - t0;
    let first = 0;
    let completed = 0;
    let last = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const workerConnection = new Redis(URL, { maxRetriesPerRequest: null });
    const worker = new Worker(
      'jobs',
      async () => {
        if (first === 0) first = performance.now();
        await noop();
      },
      { connection: workerConnection, prefix, concurrency, autorun: false },
    );
    worker.on('completed', () => {
      if (++completed >= JOBS) {
        last = performance.now();
        resolveDone();
      }
    });
    void worker.run();
    await done;
    await worker.close();
    workerConnection.disconnect();
    return { enqueuePerSec: (JOBS / enqueueMs) * 1000, processPerSec: (JOBS / (last - first)) * 1000 };
  } finally {
    await queue.close();
    connection.disconnect();
    await deleteRedisPrefix({ url: URL, prefix });
  }
}

async function measure(fn: () => Promise<Measured>): Promise<Measured> {
  const rounds: Measured[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await fn());
  return {
    enqueuePerSec: median(rounds.map((m) => m.enqueuePerSec)),
    processPerSec: median(rounds.map((m) => m.processPerSec)),
  };
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const rows: (string | number)[][] = [];
for (const concurrency of [1, 32]) {
  const s = await measure(() => sluiceRunner(concurrency));
  const b = await measure(() => bullmq(concurrency));
  rows.push([
    `sluice partitionedRunner (${concurrency} partition${concurrency > 1 ? 's' : ''}, commit per batch)`,
    concurrency,
    Math.round(s.enqueuePerSec),
    Math.round(s.processPerSec),
    ratio(s.processPerSec, b.processPerSec),
  ]);
  if (concurrency === 1) {
    const l = await measure(sluiceLoopCommitEach);
    rows.push([
      'sluice read/commit loop (commit per event)',
      1,
      Math.round(l.enqueuePerSec),
      Math.round(l.processPerSec),
      ratio(l.processPerSec, b.processPerSec),
    ]);
  }
  rows.push([
    `bullmq Worker (removeOnComplete)`,
    concurrency,
    Math.round(b.enqueuePerSec),
    Math.round(b.processPerSec),
    '1.00x',
  ]);
}

const table = writeBenchResult('redis', {
  title: `Redis: Sluice vs BullMQ — ${JOBS.toLocaleString('en-US')} no-op jobs on the local server`,
  columns: [
    'implementation',
    'concurrency',
    'enqueue jobs/s (batches of 1000)',
    'process jobs/s',
    'process vs BullMQ',
  ],
  rows,
  notes: [
    `median of ${ROUNDS} rounds; each round uses a fresh key prefix, deleted afterwards`,
    'process jobs/s: from the first handled job to the last acknowledged one (Sluice commit, BullMQ completed event); start-up excluded',
    'Sluice uses the cluster partitionedRunner (one runner, every partition; concurrency = partitions, batches of 100 committed at once)',
    'the commit-per-event loop acknowledges every job like BullMQ does; BullMQ jobs also carry retry/state bookkeeping that a log append does not',
    'the Redis server is shared with the machine (2 CPUs): compare ratios, not absolute values',
  ],
});
console.log(table);
