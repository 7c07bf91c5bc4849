/**
 * Pool throughput: N no-op async tasks (`async (x) => x`, default 1,000,000) at concurrency 8.
 * Sluice `mapConcurrent` / `mapConcurrentStream` vs p-limit vs p-queue, same process, same run.
 * Contenders alternate within each round, each in a fresh process; the table shows the median of
 * the rounds.
 *
 * Run: `node --import tsx bench/pool.bench.ts` (env `BENCH_N`, `BENCH_ROUNDS` to change the size).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

/** Warm-up runs (of 100,000 tasks) before the timed run, so the timed run sees optimised code. */
const WARMUPS = 3;

/** Runs one contender in this process: the warm-ups, a full GC, then one timed run. */
async function measureHere(c: Contender, n: number): Promise<number> {
  for (let w = 0; w < WARMUPS; w++) await c.run(Math.min(n, 100_000));
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const t0 = performance.now();
  const sum = await c.run(n);
  const ms = performance.now() - t0;
  if (sum !== expectedSum(n)) throw new Error(`${c.name} produced a wrong result: ${sum}`);
  return ms;
}

/**
 * Runs one contender in a fresh process. One process per contender and round keeps any
 * contender's heap (p-limit leaves about 1 GB of promises for the collector) from slowing the next.
 */
function measureInChild(c: Contender, n: number): number {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', c.name, String(n)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${c.name} failed: ${r.stderr}`);
  return Number(r.stdout.trim().split('\n').at(-1));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const c = contenders.find((x) => x.name === argv[1]);
  if (c === undefined) throw new Error(`unknown contender ${argv[1]}`);
  process.stdout.write(`${await measureHere(c, Number(argv[2]))}\n`);
  process.exit(0);
}

const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    const ms = measureInChild(c, N);
    times.get(c.name)!.push(ms);
    process.stdout.write(`round ${round + 1} ${c.name}: ${ms.toFixed(0)} ms\n`);
  }
}

const opsPerSec = new Map(contenders.map((c) => [c.name, N / (median(times.get(c.name)!) / 1000)]));
const base = opsPerSec.get('p-limit')!;
// Contenders alternate within a round, so each round pairs a p-limit run with a Sluice run.
const roundRatios = times
  .get('sluice mapConcurrent')!
  .map((ms, r) => times.get('p-limit')![r]! / ms)
  .sort((a, b) => a - b);
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
    `Median of ${ROUNDS} rounds; contenders alternate within each round, each timed run in a fresh process after ${WARMUPS} warm-up runs of 100,000 tasks and a full GC.`,
    `mapConcurrent vs p-limit per round: ${roundRatios.map((x) => `${x.toFixed(1)}x`).join(', ')}.`,
    'p-limit / p-queue: `Promise.all(items.map((x) => limit(() => fn(x))))` (their documented usage).',
    'Sluice results are full `ItemResult` objects (status, value, index, attempts, workerId).',
    'Target: mapConcurrent >= 25x p-limit.',
  ],
});
process.stdout.write(`\n${table}\n`);
