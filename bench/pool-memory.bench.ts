// Bench: retained heap of mapConcurrentStream over 5M async items beside p-map's pMapIterable.
/**
 * Pool memory with a lazy async source: 5,000,000 items from an async generator through
 * `mapConcurrentStream` (concurrency 64) beside p-map's `pMapIterable`, retained heap after a full
 * GC once 1,000,000 and 5,000,000 results were consumed. Each contender runs in a fresh process.
 *
 * Run: `npm run bench -- pool-memory` (env `BENCH_N` for the total, `BENCH_MEMORY_ROUNDS` for rounds).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pMapIterable } from 'p-map';
import { loadSluice, writeBenchResult } from './run.ts';

const N = Number(process.env.BENCH_N ?? 5_000_000);
const FIRST = Math.min(1_000_000, Math.floor(N / 5));
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 1);
const CONCURRENCY = 64;

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}
const noop = async (x: number) => x;

interface Sample {
  /** Retained heap (MB) after GC at FIRST and at N items. */
  first: number;
  last: number;
  ms: number;
}

/** Consumes `results`, sampling the retained heap at FIRST and N. Checks the sum. */
async function consume(results: AsyncIterable<number>): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc as () => void;
  const heapMb = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 1024 / 1024;
  };
  const t0 = performance.now();
  let seen = 0;
  let sum = 0;
  let first = 0;
  let last = 0;
  for await (const v of results) {
    sum += v;
    seen++;
    if (seen === FIRST) first = heapMb();
    if (seen === N) last = heapMb();
  }
  const ms = performance.now() - t0;
  if (seen !== N || sum !== (N * (N - 1)) / 2) throw new Error(`wrong result: ${seen} items, sum ${sum}`);
  return { first, last, ms };
}

const contenders: Record<string, () => Promise<Sample>> = {
  'sluice mapConcurrentStream': async () => {
    const { mapConcurrentStream } = await loadSluice();
    async function* values() {
      for await (const r of mapConcurrentStream(numbers(N), noop, { concurrency: CONCURRENCY })) {
        if (r.status !== 'ok') throw new Error(`item ${r.index} ${r.status}`);
        yield r.value;
      }
    }
    return consume(values());
  },
  'p-map pMapIterable': () => consume(pMapIterable(numbers(N), noop, { concurrency: CONCURRENCY })),
};

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const run = contenders[argv[1] ?? ''];
  if (run === undefined) throw new Error(`unknown contender ${argv[1]}`);
  process.stdout.write(`${JSON.stringify(await run())}\n`);
  process.exit(0);
}

function inChild(name: string): Sample {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', name], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Sample;
}

const rows: (string | number)[][] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of Object.keys(contenders)) {
    const s = inChild(name);
    process.stdout.write(
      `round ${round} ${name}: ${s.first.toFixed(1)} MB at ${FIRST}, ${s.last.toFixed(1)} MB at ${N}, ${s.ms.toFixed(0)} ms\n`,
    );
    rows.push([
      name,
      round,
      Number(s.first.toFixed(1)),
      Number(s.last.toFixed(1)),
      `${(s.last / s.first).toFixed(2)}x`,
      Math.round(N / (s.ms / 1000)),
    ]);
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const table = writeBenchResult('pool-memory', {
  title: `Pool memory: ${fmt(N)} items from an async generator at concurrency ${CONCURRENCY}`,
  columns: [
    'implementation',
    'round',
    `heap MB at ${fmt(FIRST)}`,
    `heap MB at ${fmt(N)}`,
    'growth',
    'items/s',
  ],
  rows,
  notes: [
    'Retained heap: `process.memoryUsage().heapUsed` after two full GCs (`--expose-gc`), taken by the consumer once that many results were consumed.',
    'Task `async (x) => x`; the source is `async function* () { for (let i = 0; i < n; i++) yield i; }`; every result is consumed in order and the sum is checked.',
    'Each contender runs in a fresh process; rounds alternate the contenders.',
    `Target: Sluice heap at ${fmt(N)} <= 1.1x the heap at ${fmt(FIRST)}.`,
    'The machine is shared with other jobs; items/s is indicative only.',
  ],
});
process.stdout.write(`\n${table}\n`);
