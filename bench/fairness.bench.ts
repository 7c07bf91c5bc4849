// Bench: Jain's fairness index over tenants' shares under a 100:1 hot tenant, Sluice vs a FIFO pool.
/**
 * Fairness under a hot tenant: Jain's index over the tenants' shares of the work done while
 * every tenant still has a backlog.
 *
 * Workload: 1 hot tenant with 100x the backlog of each of 10 other tenants (100:1), all items
 * available at once, arriving interleaved in proportion to the backlogs (about 100 hot items
 * between two items of a given cold tenant). Each item is a simulated I/O call (one macrotask
 * turn), 8 at a time.
 *
 * Contenders (each in its own fresh process):
 * - sluice: `stream(items).partitionBy(tenant).concurrent({maxWorkers: 1, concurrencyPerWorker: 8,
 *   perKey: {concurrency: 8}})` — one lane, 8 slots, the ready-key scheduler picks tenants in turns
 *   (`fairness: 'round_robin'`, the default);
 * - sluice weighted: the same with `fairness: 'weighted'` and every weight 1;
 * - p-limit(8): a plain FIFO of the same items in arrival order.
 *
 * Measure: the tenant of each completion in order; over the first `tenants x coldBacklog / 2`
 * completions (every tenant is backlogged during that window under a fair scheduler), each tenant's
 * share; Jain's index J = (sum x)^2 / (n * sum x^2) (1 = equal shares, 1/n = one tenant takes all).
 * Target: J >= 0.95.
 *
 * Run: `npm run bench -- fairness` (env `BENCH_FAIR_COLD` for the cold backlog, default 200).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { environment, loadSluice, writeBenchResult } from './run.ts';

const COLD_TENANTS = 10;
const COLD = Number(process.env.BENCH_FAIR_COLD ?? 200);
const HOT = COLD * 100;
const CONCURRENCY = 8;
const self = fileURLToPath(import.meta.url);

interface Measure {
  /** Tenant of each completion, in order (tenant 0 is the hot one). */
  order: number[];
  ms: number;
}

/** Items in arrival order: cold items spread evenly among the hot ones. */
function workload(): { tenant: number; n: number }[] {
  const out: { tenant: number; n: number }[] = [];
  const total = HOT + COLD * COLD_TENANTS;
  const every = total / (COLD * COLD_TENANTS);
  let cold = 0;
  let hot = 0;
  for (let i = 0; i < total; i++) {
    const wantCold = Math.floor((i + 1) / every) > cold && cold < COLD * COLD_TENANTS;
    if (wantCold || hot >= HOT) {
      out.push({ tenant: 1 + (cold % COLD_TENANTS), n: i });
      cold++;
    } else {
      out.push({ tenant: 0, n: i });
      hot++;
    }
  }
  return out;
}

const io = () => new Promise<void>((r) => setImmediate(r));

async function runSluice(weighted: boolean): Promise<Measure> {
  const { stream } = await loadSluice();
  const items = workload();
  const order: number[] = [];
  const t0 = performance.now();
  const report = await stream(items)
    .partitionBy((o) => o.tenant)
    .concurrent({
      maxWorkers: 1,
      concurrencyPerWorker: CONCURRENCY,
      maxInFlight: items.length,
      perKey: { concurrency: CONCURRENCY },
      ...(weighted ? { fairness: 'weighted' as const, weight: () => 1 } : {}),
    })
    .process(async (o) => {
      await io();
      order.push(o.tenant);
    })
    .run();
  if (report.ok !== items.length) throw new Error('sluice: wrong count');
  return { order, ms: performance.now() - t0 };
}

async function runPLimit(): Promise<Measure> {
  const pLimit = (await import('p-limit')).default;
  const limit = pLimit(CONCURRENCY);
  const items = workload();
  const order: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    items.map((o) =>
      limit(async () => {
        await io();
        order.push(o.tenant);
      }),
    ),
  );
  return { order, ms: performance.now() - t0 };
}

/** Jain's index over the tenants' completions in the first `window` completions, and the hot share. */
function jain(order: number[], window: number): { index: number; hotShare: number } {
  const counts = new Array<number>(COLD_TENANTS + 1).fill(0);
  for (const t of order.slice(0, window)) counts[t] = counts[t]! + 1;
  const sum = counts.reduce((a, b) => a + b, 0);
  const sq = counts.reduce((a, b) => a + b * b, 0);
  return { index: (sum * sum) / (counts.length * sq), hotShare: counts[0]! / sum };
}

function child(kind: string): Measure {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', kind], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Measure;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const kind = argv[1];
    const m = kind === 'p-limit' ? await runPLimit() : await runSluice(kind === 'sluice-weighted');
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const window = ((COLD_TENANTS + 1) * COLD) / 2;
  const kinds: [string, string][] = [
    ['sluice', 'sluice, round_robin (default)'],
    ['sluice-weighted', "sluice, fairness: 'weighted', equal weights"],
    ['p-limit', 'p-limit(8), FIFO'],
  ];
  const measured = kinds.map(([kind, label]) => ({ label, m: child(kind) }));
  const base = jain(measured.find((x) => x.label.startsWith('p-limit'))!.m.order, window).index;
  const total = HOT + COLD * COLD_TENANTS;
  const rows = measured.map(({ label, m }) => {
    const j = jain(m.order, window);
    return [
      label,
      Number(j.index.toFixed(3)),
      `${(j.hotShare * 100).toFixed(1)}%`,
      Math.round((total / m.ms) * 1000),
      `${(j.index / base).toFixed(2)}x`,
    ];
  });
  writeBenchResult('fairness', {
    title: `Fairness under a 100:1 hot tenant: Jain's index over ${COLD_TENANTS + 1} tenants' shares (${HOT.toLocaleString('en')} hot items, ${COLD} per other tenant)`,
    columns: ['contender', "Jain's index", 'hot tenant share', 'items/s', "vs p-limit (Jain's index)"],
    rows,
    notes: [
      `One run, each contender in a fresh process. Shares over the first ${window.toLocaleString('en')} completions (half of what a fair share lets every tenant finish), ${CONCURRENCY} items at a time, each a simulated I/O call (one macrotask turn).`,
      'Items arrive interleaved in proportion to the backlogs and are all available at once (maxInFlight holds the whole workload for sluice).',
      "Jain's index: 1 = equal shares; 1/11 = 0.09 when one tenant takes everything. Target >= 0.95. A fair share for the hot tenant is 1/11 = 9.1%.",
      'The machine is shared with other work (see the load average): items/s vary between runs; the index does not depend on speed.',
    ],
    measuredAt: new Date().toISOString(),
    environment: environment(),
  });
}

await main();
