// Bench: mapConcurrent / mapConcurrentStream vs p-limit, p-queue and a bare runWithConcurrency loop on no-op tasks, cold and warm.
/**
 * Pool throughput: N no-op async tasks (`async (x) => x`, default 1,000,000) at concurrency 8.
 * Sluice `mapConcurrent` / `mapConcurrentStream` vs p-limit vs p-queue vs a bare
 * `runWithConcurrency` loop, same run. Contenders alternate within each round, each in a fresh
 * process, measured cold (the first run in that process) and warm (after warm-up runs); the table
 * shows the median of the rounds.
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

/** The bare loop: no options, no error handling, no cancellation; results stored by index. */
async function runWithConcurrency<T, R>(
  list: readonly T[],
  fn: (item: T) => Promise<R>,
  concurrency: number,
): Promise<R[]> {
  const results = new Array<R>(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      results[i] = await fn(list[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return results;
}

/** An `ok` result of the shape `mapConcurrent` returns (DESIGN: status, value, index, attempts, workerId). */
const okResult = <R>(value: R, index: number, workerId: number) => ({
  status: 'ok' as const,
  value,
  index,
  attempts: 1,
  workerId,
});

/** The bare loop storing one result object per item, as `mapConcurrent` must: the floor of that shape. */
async function runWithConcurrencyResults<T, R>(
  list: readonly T[],
  fn: (item: T) => Promise<R>,
  concurrency: number,
): Promise<ReturnType<typeof okResult<R>>[]> {
  const results = new Array<ReturnType<typeof okResult<R>>>(list.length);
  let next = 0;
  const worker = async (workerId: number) => {
    while (next < list.length) {
      const i = next++;
      results[i] = okResult(await fn(list[i] as T), i, workerId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, (_, w) => worker(w)));
  return results;
}

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
    // The classic minimal pool: N async workers, each taking the next index in a while loop.
    name: 'bare runWithConcurrency loop',
    run: async (n) => {
      const values = await runWithConcurrency(input(n), noop, CONCURRENCY);
      let sum = 0;
      for (const v of values) sum += v;
      return sum;
    },
  },
  {
    // The same loop, but returning the result objects mapConcurrent returns instead of values.
    name: 'bare loop returning result objects',
    run: async (n) => {
      const results = await runWithConcurrencyResults(input(n), noop, CONCURRENCY);
      let sum = 0;
      for (const r of results) if (r.status === 'ok') sum += r.value;
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

type Mode = 'cold' | 'warm';

/**
 * Runs one contender in this process: (warm: the warm-ups,) a full GC, then one timed run. Cold
 * is the first run of the process, as a CLI invocation or a short job sees it.
 */
async function measureHere(c: Contender, n: number, mode: Mode): Promise<number> {
  if (mode === 'warm') for (let w = 0; w < WARMUPS; w++) await c.run(Math.min(n, 100_000));
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
function measureInChild(c: Contender, n: number, mode: Mode): number {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', c.name, String(n), mode], {
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
  process.stdout.write(`${await measureHere(c, Number(argv[2]), argv[3] === 'cold' ? 'cold' : 'warm')}\n`);
  process.exit(0);
}

const MODES: Mode[] = ['cold', 'warm'];
const key = (name: string, mode: Mode) => `${name} (${mode})`;
const times = new Map<string, number[]>();
for (const c of contenders) for (const m of MODES) times.set(key(c.name, m), []);
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    for (const c of contenders) {
      const ms = measureInChild(c, N, mode);
      times.get(key(c.name, mode))!.push(ms);
      process.stdout.write(`round ${round + 1} ${key(c.name, mode)}: ${ms.toFixed(0)} ms\n`);
    }
  }
}

const med = (name: string, mode: Mode) => median(times.get(key(name, mode))!);
const opsPerSec = (name: string, mode: Mode) => N / (med(name, mode) / 1000);
/** Per-round ratio `a` over `b` (time of b / time of a): contenders alternate, so rounds pair up. */
const perRound = (a: string, b: string, mode: Mode) =>
  times
    .get(key(a, mode))!
    .map((ms, r) => times.get(key(b, mode))![r]! / ms)
    .map((x) => `${x.toFixed(2)}x`)
    .join(', ');
const SL = 'sluice mapConcurrent';
const BARE = 'bare runWithConcurrency loop';
const rows = MODES.flatMap((mode) =>
  contenders.map((c) => {
    const ops = opsPerSec(c.name, mode);
    return [
      c.name,
      mode,
      Math.round(ops),
      Math.round(med(c.name, mode)),
      `${(ops / opsPerSec('p-limit', mode)).toFixed(1)}x`,
      `${(ops / opsPerSec(BARE, mode)).toFixed(2)}x`,
    ];
  }),
);

const table = writeBenchResult('pool', {
  title: `Pool: ${N.toLocaleString('en-US')} no-op async tasks at concurrency ${CONCURRENCY}`,
  columns: ['implementation', 'run', 'ops/s', 'ms (median)', 'vs p-limit', 'vs bare loop'],
  rows,
  notes: [
    `Task: \`async (x) => x\`; every implementation collects all ${N.toLocaleString('en-US')} results and the sum is checked.`,
    `Median of ${ROUNDS} rounds; contenders alternate within each round, each timed run in a fresh process. Cold: the first run of the process. Warm: after ${WARMUPS} warm-up runs of 100,000 tasks. A full GC before the timed run in both.`,
    `mapConcurrent vs p-limit per round: cold ${perRound(SL, 'p-limit', 'cold')}; warm ${perRound(SL, 'p-limit', 'warm')}.`,
    `mapConcurrent vs bare loop per round: cold ${perRound(SL, BARE, 'cold')}; warm ${perRound(SL, BARE, 'warm')}.`,
    'p-limit / p-queue: `Promise.all(items.map((x) => limit(() => fn(x))))` (their documented usage).',
    'Bare loop: N async workers, each `while (next < n) { const i = next++; results[i] = await fn(items[i]); }` — no options, no error isolation, no cancellation.',
    "Bare loop returning result objects: the same loop storing `{ status, value, index, attempts, workerId }` per item (the shape mapConcurrent returns) instead of the value — the cost of that shape alone, with none of the pool's work.",
    `mapConcurrent vs the bare loop returning result objects per round: cold ${perRound(SL, 'bare loop returning result objects', 'cold')}; warm ${perRound(SL, 'bare loop returning result objects', 'warm')}.`,
    'Sluice results are full `ItemResult` objects (status, value, index, attempts, workerId).',
    'Targets: mapConcurrent >= 25x p-limit and >= 0.8x the bare loop.',
    'The machine is shared with other jobs; the load average at start is in the environment line.',
  ],
});
process.stdout.write(`\n${table}\n`);
