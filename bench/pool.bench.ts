/**
 * Pool throughput: N no-op async tasks (`async (x) => x`, default 1,000,000) at concurrency 8.
 * Sluice `mapConcurrent` / `mapConcurrentStream` vs p-limit vs p-queue, same process, same run.
 * Contenders alternate within each round; the table shows the median of the rounds.
 *
 * Run: `node --import tsx bench/pool.bench.ts` (env `BENCH_N`, `BENCH_ROUNDS` to change the size).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { loadSluice, writeBenchResult } from './run.ts';

const { mapConcurrent, mapConcurrentStream } = await loadSluice();

const N = Number(process.env.BENCH_N ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = 8;

const items = Array.from({ length: N }, (_, i) => i);
const noop = async (x: number) => x;

interface Contender {
  name: string;
  /** Runs the batch and returns the sum of the values (checked against the expected sum). */
  run: (n: number) => Promise<number>;
}

const input = (n: number) => (n === N ? items : items.slice(0, n));

const contenders: Contender[] = [
  {
    name: 'sluice mapConcurrent',
    run: async (n) => {
      const results = await mapConcurrent(input(n), noop, { concurrency: CONCURRENCY });
      let sum = 0;
      for (const r of results) if (r.status === 'ok') sum += r.value;
      return sum;
    },
  },
  {
    name: 'sluice mapConcurrentStream',
    run: async (n) => {
      let sum = 0;
      for await (const r of mapConcurrentStream(input(n), noop, { concurrency: CONCURRENCY })) {
        if (r.status === 'ok') sum += r.value;
      }
      return sum;
    },
  },
  {
    name: 'p-limit',
    run: async (n) => {
      const limit = pLimit(CONCURRENCY);
      const values = await Promise.all(input(n).map((x) => limit(() => noop(x))));
      let sum = 0;
      for (const v of values) sum += v;
      return sum;
    },
  },
  {
    name: 'p-queue',
    run: async (n) => {
      const queue = new PQueue({ concurrency: CONCURRENCY });
      const values = await Promise.all(input(n).map((x) => queue.add(() => noop(x))));
      let sum = 0;
      for (const v of values) sum += v as number;
      return sum;
    },
  },
];

const expectedSum = (n: number) => (n * (n - 1)) / 2;

// A full GC before each timed run, so no contender pays for the garbage of the previous one.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function measure(c: Contender, n: number): Promise<number> {
  gc();
  const t0 = performance.now();
  const sum = await c.run(n);
  const ms = performance.now() - t0;
  if (sum !== expectedSum(n)) throw new Error(`${c.name} produced a wrong result: ${sum}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Warm-up: let every contender's code get optimised before timing.
for (const c of contenders) await measure(c, Math.min(N, 100_000));

const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    const ms = await measure(c, N);
    times.get(c.name)!.push(ms);
    process.stdout.write(`round ${round + 1} ${c.name}: ${ms.toFixed(0)} ms\n`);
  }
}

const opsPerSec = new Map(contenders.map((c) => [c.name, N / (median(times.get(c.name)!) / 1000)]));
const base = opsPerSec.get('p-limit')!;
const rows = contenders.map((c) => {
  const ops = opsPerSec.get(c.name)!;
  return [c.name, Math.round(ops), Math.round(median(times.get(c.name)!)), `${(ops / base).toFixed(1)}x`];
});

const table = writeBenchResult('pool', {
  title: `Pool: ${N.toLocaleString('en-US')} no-op async tasks at concurrency ${CONCURRENCY}`,
  columns: ['implementation', 'ops/s', 'ms (median)', 'vs p-limit'],
  rows,
  notes: [
    `Task: \`async (x) => x\`; every implementation collects all ${N.toLocaleString('en-US')} results and the sum is checked.`,
    `Median of ${ROUNDS} rounds after a 100,000-task warm-up; contenders alternate within each round; a full GC runs before each timed run.`,
    'p-limit / p-queue: `Promise.all(items.map((x) => limit(() => fn(x))))` (their documented usage).',
    'Sluice results are full `ItemResult` objects (status, value, index, attempts, workerId).',
    'Target: mapConcurrent >= 25x p-limit.',
  ],
});
process.stdout.write(`\n${table}\n`);
