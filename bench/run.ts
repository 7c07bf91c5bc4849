// The `npm run bench` harness: runs each bench in its own process and writes bench/RESULTS.md from bench/results/*.json.
/**
 * Benchmark harness behind `npm run bench`.
 *
 * - `npm run bench` runs every `bench/*.bench.ts`, one after the other, each in its own child
 *   process (`node --import tsx bench/<name>.bench.ts`); `npm run bench -- pool threads` runs
 *   only `pool.bench.ts` and `threads.bench.ts`.
 * - Then it writes `bench/RESULTS.md` from every JSON file in `bench/results/` (also those of
 *   benches not run this time), one section per file, sorted by file name.
 *
 * ## Result file shape (`bench/results/<name>.json`)
 *
 * Every bench writes one JSON file of type {@link BenchResult}:
 *
 * ```json
 * {
 *   "title": "mapConcurrent vs p-limit vs p-queue — 1,000,000 no-op async tasks, concurrency 8",
 *   "columns": ["implementation", "ops/s", "vs p-limit"],
 *   "rows": [["sluice mapConcurrent", 9100000, "33.1x"], ["p-limit", 275000, "1.0x"]],
 *   "notes": ["median of 3 rounds"],
 *   "measuredAt": "2024-05-01T10:00:00.000Z",
 *   "environment": "Node v20.20.2, linux x64, 2 CPUs"
 * }
 * ```
 *
 * - `title` (string): the section heading.
 * - `columns` (string[]): table header.
 * - `rows` ((string | number)[][]): table cells, one array per row, as many cells as columns.
 *   Numbers are printed with thousands separators (integers) or 2 decimals.
 * - `notes` (string[], optional): bullet points under the table (method, caveats, targets).
 * - `measuredAt` (ISO string, optional) and `environment` (string, optional): shown under the title.
 *
 * Benches may import {@link writeBenchResult}, {@link markdownTable} and {@link environment}
 * from this file; importing it does not run the harness.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The JSON a bench writes to `bench/results/<name>.json`. */
export interface BenchResult {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
  measuredAt?: string;
  environment?: string;
}

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, 'results');

/** Load average when this module was loaded (the bench's start), before the bench adds its own. */
const startLoad = loadavg()[0] ?? 0;

/**
 * The compiled package (`dist/`, built by `npm run bench`), typed as the sources. Loaded through
 * a computed URL so type checking does not need `dist/` to exist.
 */
export async function loadSluice(): Promise<typeof import('../src/index.ts')> {
  const url = new URL('../dist/index.js', import.meta.url).href;
  return (await import(url)) as typeof import('../src/index.ts');
}

/** A one-line description of the machine and runtime, with the load average at the start. */
export function environment(): string {
  return `Node ${process.version}, ${process.platform} ${process.arch}, ${availableParallelism()} CPUs, load average ${startLoad.toFixed(2)} at start`;
}

function cell(v: string | number): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return Number.isInteger(v)
      ? v.toLocaleString('en-US')
      : v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  return v.replaceAll('|', '\\|');
}

/** Renders `columns` and `rows` as a GitHub markdown table. */
export function markdownTable(
  columns: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const lines = [
    `| ${columns.map(cell).join(' | ')} |`,
    `| ${columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/**
 * Writes `bench/results/<name>.json` (atomically) with `measuredAt` and `environment` filled in
 * when missing, and returns the markdown table for printing.
 */
export function writeBenchResult(name: string, result: BenchResult): string {
  const full: BenchResult = {
    ...result,
    measuredAt: result.measuredAt ?? new Date().toISOString(),
    environment: result.environment ?? environment(),
  };
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`);
  renameSync(tmp, file);
  return markdownTable(full.columns, full.rows);
}

function isBenchResult(v: unknown): v is BenchResult {
  const o = v as Partial<BenchResult> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.title === 'string' &&
    Array.isArray(o.columns) &&
    Array.isArray(o.rows) &&
    o.rows.every((r) => Array.isArray(r))
  );
}

/** Builds `bench/RESULTS.md` from the JSON files in `bench/results/`. */
export function renderResults(): string {
  let files: string[] = [];
  try {
    files = readdirSync(resultsDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    files = [];
  }
  const out = [
    '# Benchmark results',
    '',
    'Generated by `npm run bench` from `bench/results/*.json`. Each bench runs Sluice and its peers',
    'side by side in one process, on the same machine, in the same run. Numbers vary between machines',
    'and runs; compare ratios within a table rather than absolute values across tables.',
    '',
  ];
  for (const f of files) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(join(resultsDir, f), 'utf8'));
    } catch (e) {
      out.push(`## ${basename(f, '.json')}`, '', `_Unreadable result file: ${(e as Error).message}_`, '');
      continue;
    }
    if (!isBenchResult(data)) {
      out.push(`## ${basename(f, '.json')}`, '', '_Result file does not follow the documented shape._', '');
      continue;
    }
    out.push(`## ${data.title}`, '');
    const meta = [data.measuredAt && `measured ${data.measuredAt}`, data.environment].filter(Boolean);
    if (meta.length > 0) out.push(`_${meta.join(' — ')}_ (\`bench/${basename(f, '.json')}.bench.ts\`)`, '');
    out.push(markdownTable(data.columns, data.rows), '');
    for (const n of data.notes ?? []) out.push(`- ${n}`);
    if ((data.notes ?? []).length > 0) out.push('');
  }
  return out.join('\n');
}

function main(argv: string[]): number {
  const all = readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
  const wanted = argv.length > 0 ? argv.map((a) => basename(a).replace(/\.bench\.ts$/, '')) : all;
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no such bench: ${unknown.join(', ')} (have: ${all.join(', ')})\n`);
    return 2;
  }
  // Benches measure the compiled package, as users run it (tsx's transform adds per-closure
  // overhead to hot paths).
  const build = spawnSync(
    process.execPath,
    [join(benchDir, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      stdio: 'inherit',
      cwd: join(benchDir, '..'),
    },
  );
  if (build.status !== 0) {
    process.stderr.write('bench: the build failed\n');
    return 1;
  }
  const failed: string[] = [];
  for (const name of wanted) {
    process.stdout.write(`\n=== bench ${name} ===\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, `${name}.bench.ts`)], {
      stdio: 'inherit',
      cwd: join(benchDir, '..'),
    });
    if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
  }
  writeFileSync(join(benchDir, 'RESULTS.md'), renderResults());
  process.stdout.write(`\nbench: wrote bench/RESULTS.md\n`);
  if (failed.length > 0) {
    process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
