// Bench: PostgreSQL write throughput, Sluice append vs pg-boss insert and graphile-worker addJobs, plus single appends and reads.
/**
 * PostgreSQL write throughput on the local server: Sluice's `append` side by side with the
 * batch inserts of two PostgreSQL job queues, pg-boss (`insert`) and graphile-worker
 * (`addJobs`). Each contender gets a fresh schema, writes BATCHES batches of BATCH small JSON
 * payloads one batch at a time, and the schema is dropped afterwards. Also single-event appends
 * (one round of requests in sequence) and reads of 1000 events.
 *
 * These are different products: a job insert also sets retry/scheduling columns, an append
 * assigns a dense offset under a partition row lock and sends a NOTIFY. The numbers say what one
 * batch costs on the same server, not which product is better.
 *
 * Run: `node --import tsx bench/postgres.bench.ts` (env `SLUICE_BENCH_POSTGRES_URL`,
 * `BENCH_ROUNDS` default 3). Writes bench/results/postgres.json.
 */
import { makeWorkerUtils } from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { createPostgresBackend } from '../src/backend/postgres/index.ts';
import { environment, markdownTable, writeBenchResult } from './run.ts';

const URL = process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 1000;
const BATCHES = 10;
const SINGLES = 500;

const admin = new pg.Pool({ connectionString: URL, max: 1 });
const payload = (i: number) => ({
  orderId: `o-${i}`,
  customer: `c-${i % 97}`,
  total: i * 1.5,
  lines: [1, 2, 3],
});

interface Contender {
  name: string;
  /** Sets up a fresh store; returns the batch writer and a teardown. */
  open(schema: string): Promise<{ write(batch: number): Promise<void>; close(): Promise<void> }>;
}

const contenders: Contender[] = [
  {
    name: 'sluice append (8 partitions, keyed)',
    async open(schema) {
      const b = await createPostgresBackend({ connectionString: URL, schema });
      await b.ensureTopic('orders', { partitions: 8 });
      return {
        write: async (n) => {
          const events = Array.from({ length: BATCH }, (_, i) => {
            const k = n * BATCH + i;
            return { key: `c-${k % 97}`, payload: payload(k) };
          });
          await b.append('orders', events);
        },
        close: () => b.close(),
      };
    },
  },
  {
    name: 'sluice append, synchronous_commit=off',
    async open(schema) {
      const b = await createPostgresBackend({
        connectionString: URL,
        schema,
        pool: { options: '-c synchronous_commit=off' },
      });
      await b.ensureTopic('orders', { partitions: 8 });
      return {
        write: async (n) => {
          const events = Array.from({ length: BATCH }, (_, i) => {
            const k = n * BATCH + i;
            return { key: `c-${k % 97}`, payload: payload(k) };
          });
          await b.append('orders', events);
        },
        close: () => b.close(),
      };
    },
  },
  {
    name: 'pg-boss insert',
    async open(schema) {
      const boss = new PgBoss({ connectionString: URL, schema, supervise: false, schedule: false });
      boss.on('error', () => {});
      await boss.start();
      await boss.createQueue('orders');
      return {
        write: async (n) => {
          await boss.insert(
            Array.from({ length: BATCH }, (_, i) => ({ name: 'orders', data: payload(n * BATCH + i) })),
          );
        },
        close: () => boss.stop({ graceful: false, wait: true }),
      };
    },
  },
  {
    name: 'graphile-worker addJobs',
    async open(schema) {
      const utils = await makeWorkerUtils({ connectionString: URL, schema });
      await utils.migrate();
      return {
        write: async (n) => {
          await utils.addJobs(
            Array.from({ length: BATCH }, (_, i) => ({
              identifier: 'orders',
              payload: payload(n * BATCH + i),
            })),
          );
        },
        close: async () => {
          await utils.release();
        },
      };
    },
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function drop(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

let n = 0;
const schemaName = () => `bench_pg_${process.pid}_${++n}`;

async function batchRate(c: Contender): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const schema = schemaName();
    const store = await c.open(schema);
    try {
      await store.write(0); // warm-up: connections, plans
      const t0 = performance.now();
      for (let i = 1; i <= BATCHES; i++) await store.write(i);
      rates.push((BATCHES * BATCH) / ((performance.now() - t0) / 1000));
    } finally {
      await store.close();
      await drop(schema);
    }
  }
  return median(rates);
}

async function sluiceExtras(): Promise<{ singlesPerSec: number; readPerSec: number; commitsPerSec: number }> {
  const singles: number[] = [];
  const reads: number[] = [];
  const commits: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const schema = schemaName();
    const b = await createPostgresBackend({ connectionString: URL, schema });
    try {
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [{ payload: payload(0) }]);
      let t0 = performance.now();
      for (let i = 0; i < SINGLES; i++) await b.append('t', [{ payload: payload(i) }]);
      singles.push(SINGLES / ((performance.now() - t0) / 1000));
      for (let i = 0; i < 10; i++) {
        await b.append(
          't',
          Array.from({ length: BATCH }, (_, j) => ({ payload: payload(j) })),
        );
      }
      t0 = performance.now();
      let read = 0;
      for (let off = 0; off < 10 * BATCH; off += BATCH) read += (await b.read('t', 0, off, BATCH)).length;
      reads.push(read / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      for (let i = 1; i <= SINGLES; i++) await b.commit('g', 't', 0, i, { idempotencyKeys: [`k${i}`] });
      commits.push(SINGLES / ((performance.now() - t0) / 1000));
    } finally {
      await b.close();
      await drop(schema);
    }
  }
  return { singlesPerSec: median(singles), readPerSec: median(reads), commitsPerSec: median(commits) };
}

async function main(): Promise<void> {
  const rates: [string, number][] = [];
  for (const c of contenders) rates.push([c.name, await batchRate(c)]);
  const base = rates.find(([name]) => name.startsWith('pg-boss'))![1];
  const rows: (string | number)[][] = rates.map(([name, rate]) => [
    name,
    Math.round(rate),
    ((BATCH / rate) * 1000).toFixed(1),
    `${(rate / base).toFixed(2)}x`,
  ]);
  const extras = await sluiceExtras();
  const columns = ['implementation', 'events/s (batch 1000)', 'ms per batch', 'vs pg-boss'];
  const notes = [
    `${BATCHES} batches of ${BATCH} after one warm-up batch, one batch at a time, median of ${ROUNDS} rounds, fresh schema each round`,
    `Sluice single-event appends in sequence: ${Math.round(extras.singlesPerSec).toLocaleString('en-US')}/s`,
    `Sluice reads of ${BATCH} events: ${Math.round(extras.readPerSec).toLocaleString('en-US')} events/s`,
    `Sluice commits (offset + 1 idempotency key) in sequence: ${Math.round(extras.commitsPerSec).toLocaleString('en-US')}/s`,
    'Local PostgreSQL 15 on the same 2-CPU machine (loopback), default server settings',
  ];
  const title = `PostgreSQL batch writes — ${BATCH}-event batches: Sluice append vs pg-boss insert vs graphile-worker addJobs`;
  console.log(`## ${title}\n\n${markdownTable(columns, rows)}\n`);
  for (const note of notes) console.log(`- ${note}`);
  writeBenchResult('postgres', {
    title,
    columns,
    rows,
    notes,
    measuredAt: new Date().toISOString(),
    environment: environment(),
  });
  await admin.end();
}

await main();
