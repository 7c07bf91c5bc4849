// Bench: ThreadPool vs piscina on a CPU-bound hash task, 1 and 2 threads.
/**
 * Worker threads on a CPU-bound task (`bench/fixtures/hash.mjs`, about 30 ms per call):
 * Sluice `ThreadPool` vs piscina, 1 thread vs 2 threads, same process, same run.
 * Threads are started and warmed up before timing; the table shows the median of the rounds.
 *
 * Run: `node --import tsx bench/threads.bench.ts` (env `BENCH_TASKS`, `BENCH_ROUNDS`).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import hash from './fixtures/hash.mjs';
import { loadSluice, writeBenchResult } from './run.ts';

const { ThreadPool } = await loadSluice();

const TASKS = Number(process.env.BENCH_TASKS ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FILE = new URL('./fixtures/hash.mjs', import.meta.url);

interface Runner {
  name: string;
  threads: number;
  run: (seed: number) => Promise<number>;
  close: () => Promise<void>;
}

function sluice(threads: number): Runner {
  const pool = new ThreadPool<number, number>({ file: FILE, threads });
  return { name: 'sluice ThreadPool', threads, run: (s) => pool.run(s), close: () => pool.close() };
}

function piscina(threads: number): Runner {
  const pool = new Piscina({
    filename: FILE.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  return {
    name: 'piscina',
    threads,
    run: (s) => pool.run(s) as Promise<number>,
    close: () => pool.destroy(),
  };
}

const expected = Array.from({ length: TASKS }, (_, i) => hash(i));

async function timeBatch(r: Runner): Promise<number> {
  const t0 = performance.now();
  const out = await Promise.all(expected.map((_, i) => r.run(i)));
  const ms = performance.now() - t0;
  out.forEach((v, i) => {
    if (v !== expected[i]) throw new Error(`${r.name} returned a wrong hash for task ${i}`);
  });
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Main-thread reference: one call at a time, no pool.
const mainTimes: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  for (let i = 0; i < TASKS; i++) hash(i);
  mainTimes.push(performance.now() - t0);
}
const perTaskMs = median(mainTimes) / TASKS;

const runners = [sluice(1), piscina(1), sluice(2), piscina(2)];
// Start and warm up every thread (2 tasks per thread) so startup is not timed.
for (const r of runners) await Promise.all(Array.from({ length: r.threads * 2 }, (_, i) => r.run(i)));

const times = new Map<Runner, number[]>(runners.map((r) => [r, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const r of runners) {
    const ms = await timeBatch(r);
    times.get(r)!.push(ms);
    process.stdout.write(`round ${round + 1} ${r.name} x${r.threads}: ${ms.toFixed(0)} ms\n`);
  }
}
for (const r of runners) await r.close();

const tps = (r: Runner) => TASKS / (median(times.get(r)!) / 1000);
const find = (name: string, threads: number) =>
  runners.find((r) => r.name === name && r.threads === threads)!;
const rows: (string | number)[][] = [
  ['main thread (no pool)', 1, Number((1000 / perTaskMs).toFixed(2)), '-', '-'],
];
for (const r of runners) {
  const one = find(r.name, 1);
  const peer = find('piscina', r.threads);
  rows.push([
    r.name,
    r.threads,
    Number(tps(r).toFixed(2)),
    `${(tps(r) / tps(one)).toFixed(2)}x`,
    `${(tps(r) / tps(peer)).toFixed(2)}x`,
  ]);
}

const table = writeBenchResult('threads', {
  title: `Threads: ${TASKS} CPU-bound tasks (~${perTaskMs.toFixed(0)} ms each), 1 vs 2 threads`,
  columns: ['implementation', 'threads', 'tasks/s', 'speedup vs 1 thread', 'vs piscina'],
  rows,
  notes: [
    `Task: \`bench/fixtures/hash.mjs\` (integer hash loop, ${perTaskMs.toFixed(1)} ms on the main thread); every result is checked.`,
    `Median of ${ROUNDS} rounds of ${TASKS} tasks submitted at once; threads started and warmed up before timing; pools alternate within each round.`,
    `Machine: ${availableParallelism()} CPUs. The 2-thread speedup is bounded by the cores actually free during the run.`,
    'Targets: ThreadPool >= piscina; >= 1.8x over one thread on 2 cores.',
  ],
});
process.stdout.write(`\n${table}\n`);
