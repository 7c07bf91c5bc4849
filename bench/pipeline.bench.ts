/**
 * Pipeline throughput and memory: `stream(events).partitionBy(key).concurrent({maxWorkers: 8})
 * .process(fn).run()` against a hand-written p-limit-per-key baseline (a promise chain per key
 * for order, p-limit(8) for concurrency, a bound on items in flight for backpressure).
 *
 * Runs the compiled package (`dist/`, built by `npm run bench`), as users run it.
 * Each contender runs in its own child process so peak RSS is its own.
 *
 * Run: `node --import tsx bench/pipeline.bench.ts` (env `BENCH_N` for the throughput run size).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { environment, loadSluice, writeBenchResult } from './run.ts';

const N = Number(process.env.BENCH_N ?? 2_000_000);
const KEYS = 1000;
const self = fileURLToPath(import.meta.url);

interface Measure {
  events: number;
  ms: number;
  maxRssMb: number;
}

async function runSluice(n: number, asyncFn: boolean): Promise<Measure> {
  const { stream } = await loadSluice();
  function* source() {
    for (let i = 0; i < n; i++) yield { key: `k${i % KEYS}`, n: i };
  }
  let sum = 0;
  const t0 = performance.now();
  const report = await stream(source())
    .partitionBy((e) => e.key)
    .concurrent({ maxWorkers: 8 })
    .process(
      asyncFn
        ? async (e) => {
            sum += e.n;
          }
        : (e) => {
            sum += e.n;
          },
    )
    .run();
  const ms = performance.now() - t0;
  if (report.ok !== n || sum !== (n * (n - 1)) / 2) throw new Error('sluice: wrong result');
  return { events: n, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

async function runBaseline(n: number): Promise<Measure> {
  const { default: pLimit } = await import('p-limit');
  const limit = pLimit(8);
  const tails = new Map<string, Promise<void>>();
  const maxInFlight = 1024;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const e = { key: `k${i % KEYS}`, n: i };
    while (inFlight >= maxInFlight) await new Promise<void>((r) => (wake = r));
    inFlight++;
    const prev = tails.get(e.key) ?? Promise.resolve();
    const next = prev.then(() =>
      limit(async () => {
        sum += e.n;
      }),
    );
    const tail = next.then(() => {
      inFlight--;
      if (tails.get(e.key) === tail) tails.delete(e.key);
      wake?.();
      wake = undefined;
    });
    tails.set(e.key, tail);
  }
  await Promise.all(tails.values());
  const ms = performance.now() - t0;
  if (sum !== (n * (n - 1)) / 2) throw new Error('baseline: wrong result');
  return { events: n, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

function child(kind: string, n: number): Measure {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', kind, String(n)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Measure;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const kind = argv[1]!;
    const n = Number(argv[2]);
    const m = kind === 'baseline' ? await runBaseline(n) : await runSluice(n, kind === 'sluice-async');
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const median = (xs: Measure[]) => [...xs].sort((a, b) => a.ms - b.ms)[Math.floor(xs.length / 2)]!;
  const results: Record<string, Measure[]> = { 'sluice-sync': [], 'sluice-async': [], baseline: [] };
  for (let r = 0; r < rounds; r++)
    for (const kind of Object.keys(results)) results[kind]!.push(child(kind, N));
  const big = child('sluice-sync', 10_000_000);
  const rate = (m: Measure) => Math.round((m.events / m.ms) * 1000);
  const base = median(results.baseline!);
  const rows = [
    [
      'sluice, sync process fn',
      rate(median(results['sluice-sync']!)),
      `${(rate(median(results['sluice-sync']!)) / rate(base)).toFixed(1)}x`,
      Math.round(median(results['sluice-sync']!).maxRssMb),
    ],
    [
      'sluice, async process fn',
      rate(median(results['sluice-async']!)),
      `${(rate(median(results['sluice-async']!)) / rate(base)).toFixed(1)}x`,
      Math.round(median(results['sluice-async']!).maxRssMb),
    ],
    ['p-limit per key (hand-written)', rate(base), '1.0x', Math.round(base.maxRssMb)],
    [
      'sluice, sync, 10,000,000 events',
      rate(big),
      `${(rate(big) / rate(base)).toFixed(1)}x`,
      Math.round(big.maxRssMb),
    ],
  ];
  writeBenchResult('pipeline', {
    title: `Pipeline: partitionBy(key) + concurrent({maxWorkers: 8}) + trivial process, ${N.toLocaleString('en')} events, ${KEYS} keys`,
    columns: ['implementation', 'events/s', 'vs baseline', 'peak RSS (MB)'],
    rows,
    notes: [
      `Median of ${rounds} rounds, each contender in a fresh process; the last row is one 10 M-event run (peak RSS shows memory does not grow with the stream).`,
      'Baseline: a promise chain per key (strict per-key order), p-limit(8) for concurrency, at most 1024 events in flight.',
      'Target: >= 1,000,000 events/s; flat memory over 10 M events.',
    ],
    measuredAt: new Date().toISOString(),
    environment: environment(),
  });
}

await main();
