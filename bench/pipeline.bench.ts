// Bench: pipeline throughput and memory against hand-written per-key promise chains, and worker spread on an 8-partition topic.
/**
 * Pipeline throughput, memory and spread over workers.
 *
 * 1. `stream(events).partitionBy(key).concurrent({maxWorkers: 8}).process(fn).run()` against two
 *    hand-written contenders with the same limits (strict order per key, 8 at a time, at most
 *    1024 events in flight): a per-key promise chain (a Map of key → promise tail) with a
 *    global cap of 8 written by hand, and the same chain with p-limit(8) as the cap.
 * 2. A topic pipeline on an 8-partition memory topic with `maxWorkers: 8` and a 1 ms handler:
 *    each worker's share of the events (target: within ±15% of the mean) and events/s.
 *
 * Runs the compiled package (`dist/`, built by `npm run bench`), as users run it.
 * Each contender runs in its own child process so peak RSS is its own.
 *
 * Run: `npm run bench -- pipeline` (env `BENCH_N` for the throughput run size, `BENCH_ROUNDS`).
 * Env `BENCH_BASELINE_DIST`: the `dist/` directory of another build (e.g. an earlier commit)
 * whose pipeline runs as extra contenders in the same run, for a side-by-side regression check.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { environment, loadSluice, writeBenchResult } from './run.ts';

const N = Number(process.env.BENCH_N ?? 2_000_000);
const KEYS = 1000;
const WORKERS = 8;
const MAX_IN_FLIGHT = 1024;
const TOPIC_EVENTS = 4_000;
const self = fileURLToPath(import.meta.url);
const baselineDist = process.env.BENCH_BASELINE_DIST;

/** The package under test, or the baseline build for contenders named `base-*`. */
async function load(kind: string): Promise<Awaited<ReturnType<typeof loadSluice>>> {
  if (!kind.startsWith('base-') || baselineDist === undefined) return loadSluice();
  return (await import(pathToFileURL(join(baselineDist, 'index.js')).href)) as Awaited<
    ReturnType<typeof loadSluice>
  >;
}

interface Measure {
  events: number;
  ms: number;
  maxRssMb: number;
  shares?: number[];
}

function* keyed(n: number) {
  for (let i = 0; i < n; i++) yield { key: `k${i % KEYS}`, n: i };
}

async function runSluice(kind: string, n: number, asyncFn: boolean): Promise<Measure> {
  const { stream } = await load(kind);
  let sum = 0;
  const t0 = performance.now();
  const report = await stream(keyed(n))
    .partitionBy((e) => e.key)
    .concurrent({ maxWorkers: WORKERS, maxInFlight: MAX_IN_FLIGHT })
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

/**
 * The hand-written contender: a promise tail per key for order, a counter + FIFO of waiters
 * capping running items at `WORKERS`, and a bound of `MAX_IN_FLIGHT` events taken and not
 * finished. With `usePLimit`, p-limit does the capping instead.
 */
async function runChain(n: number, usePLimit: boolean): Promise<Measure> {
  const limit = usePLimit ? (await import('p-limit')).default(WORKERS) : undefined;
  const waiters: Array<() => void> = [];
  let waitHead = 0;
  let running = 0;
  const acquire = (): Promise<void> | undefined => {
    if (running < WORKERS) {
      running++;
      return undefined;
    }
    return new Promise<void>((r) => waiters.push(r));
  };
  const release = () => {
    if (waitHead < waiters.length) {
      const next = waiters[waitHead]!;
      waiters[waitHead++] = undefined as never;
      if (waitHead > 4096 && waitHead * 2 > waiters.length) {
        waiters.splice(0, waitHead);
        waitHead = 0;
      }
      next();
    } else running--;
  };
  const tails = new Map<string, Promise<void>>();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let sum = 0;
  const fn = async (e: { n: number }) => {
    sum += e.n;
  };
  const capped = async (e: { n: number }) => {
    const wait = acquire();
    if (wait) await wait;
    try {
      await fn(e);
    } finally {
      release();
    }
  };
  const t0 = performance.now();
  for (const e of keyed(n)) {
    while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    inFlight++;
    const prev = tails.get(e.key);
    const run = limit ? () => limit(() => fn(e)) : () => capped(e);
    const tail: Promise<void> = (prev ? prev.then(run) : run()).then(() => {
      inFlight--;
      if (tails.get(e.key) === tail) tails.delete(e.key);
      const w = wake;
      wake = undefined;
      w?.();
    });
    tails.set(e.key, tail);
  }
  await Promise.all(tails.values());
  const ms = performance.now() - t0;
  if (sum !== (n * (n - 1)) / 2) throw new Error('chain: wrong result');
  return { events: n, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

/** 8 workers on an 8-partition topic, 1 ms handler: events/s and each worker's share. */
async function runTopic(kind: string, n: number): Promise<Measure> {
  const { stream, createMemoryBackend } = await load(kind);
  const backend = createMemoryBackend();
  await backend.ensureTopic('orders', { partitions: 8 });
  await backend.append(
    'orders',
    Array.from({ length: n }, (_, i) => ({ key: `customer-${i % KEYS}`, payload: { n: i } })),
  );
  const t0 = performance.now();
  const report = await stream({ backend, topic: 'orders', group: 'bench' })
    .concurrent({ maxWorkers: WORKERS })
    .process(() => new Promise<void>((r) => setTimeout(r, 1)))
    .checkpoint({ every: '100ms' })
    .run();
  const ms = performance.now() - t0;
  if (report.ok !== n) throw new Error('topic: wrong result');
  await backend.close();
  return {
    events: n,
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    shares: report.workers.map((w) => w.processed / n),
  };
}

function child(kind: string, n: number): Measure {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', kind, String(n)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Measure;
}

async function runChild(kind: string, n: number): Promise<Measure> {
  if (kind === 'chain') return runChain(n, false);
  if (kind === 'p-limit') return runChain(n, true);
  if (kind.endsWith('topic')) return runTopic(kind, n);
  return runSluice(kind, n, kind.endsWith('sluice-async'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const m = await runChild(argv[1]!, Number(argv[2]));
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const median = (xs: Measure[]) => [...xs].sort((a, b) => a.ms - b.ms)[Math.floor(xs.length / 2)]!;
  const results: Record<string, Measure[]> = {
    'sluice-sync': [],
    'sluice-async': [],
    chain: [],
    'p-limit': [],
  };
  if (baselineDist !== undefined) {
    results['base-sluice-sync'] = [];
    results['base-sluice-async'] = [];
  }
  // Interleaved rounds: every contender sees the same share of the shared machine's load.
  for (let r = 0; r < rounds; r++)
    for (const kind of Object.keys(results)) results[kind]!.push(child(kind, N));
  const big = child('sluice-sync', 10_000_000);
  const topic = child('topic', TOPIC_EVENTS);
  const baseTopic = baselineDist === undefined ? undefined : child('base-topic', TOPIC_EVENTS);
  const rate = (m: Measure) => Math.round((m.events / m.ms) * 1000);
  const base = rate(median(results.chain!));
  const row = (label: string, m: Measure) => [
    label,
    rate(m),
    `${(rate(m) / base).toFixed(2)}x`,
    Math.round(m.maxRssMb),
  ];
  const spread = (m: Measure) => {
    const shares = m.shares ?? [];
    const mean = 1 / shares.length;
    const worst = Math.max(...shares.map((s) => Math.abs(s - mean) / mean));
    return `${shares.map((s) => `${(s * 100).toFixed(1)}%`).join(', ')} (mean ${(mean * 100).toFixed(1)}%, worst ${(worst * 100).toFixed(1)}% from the mean)`;
  };
  const topicLabel = `topic: 8 partitions, ${WORKERS} workers, 1 ms handler, ${TOPIC_EVENTS.toLocaleString('en')} events`;
  const baseRows = results['base-sluice-sync']
    ? [
        row('baseline build, sync process fn', median(results['base-sluice-sync']!)),
        row('baseline build, async process fn', median(results['base-sluice-async']!)),
        ...(baseTopic
          ? [[`baseline build, ${topicLabel}`, rate(baseTopic), '-', Math.round(baseTopic.maxRssMb)]]
          : []),
      ]
    : [];
  writeBenchResult('pipeline', {
    title: `Pipeline: partitionBy(key) + concurrent({maxWorkers: ${WORKERS}}) + trivial process, ${N.toLocaleString('en')} events, ${KEYS} keys`,
    columns: ['implementation', 'events/s', 'vs per-key chain', 'peak RSS (MB)'],
    rows: [
      row('sluice, sync process fn', median(results['sluice-sync']!)),
      row('sluice, async process fn', median(results['sluice-async']!)),
      row('per-key promise chain, hand-written cap of 8', median(results.chain!)),
      row('per-key promise chain, p-limit(8)', median(results['p-limit']!)),
      row('sluice, sync, 10,000,000 events', big),
      [topicLabel, rate(topic), '-', Math.round(topic.maxRssMb)],
      ...baseRows,
    ],
    notes: [
      `Median of ${rounds} interleaved rounds, each contender in a fresh process; the 10 M-event row is one run (peak RSS shows memory does not grow with the stream).`,
      `Same limits for all: strict order per key, ${WORKERS} items at a time, at most ${MAX_IN_FLIGHT} events in flight. The chains use an async process function; compare them with the async sluice row.`,
      `Topic row: each worker's share of the events ${spread(topic)}; target within 15% of the mean.`,
      ...(baseTopic ? [`Baseline build's topic row: worker shares ${spread(baseTopic)}.`] : []),
      ...(baselineDist === undefined
        ? []
        : [
            '"baseline build" rows: the same benches run on an earlier build of the package, in the same run.',
          ]),
      'Targets: >= 1,000,000 events/s and >= 1.0x the hand-written per-key chain; flat memory over 10 M events.',
      'The machine is shared with other work (see the load average): absolute rates vary between runs, ratios within one run are side by side.',
    ],
    measuredAt: new Date().toISOString(),
    environment: environment(),
  });
}

await main();
