import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { systemClock, type Timer } from '../../core/Clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import { type BatchProgress, type BatchReport, type RunBatchOptions, runBatch } from '../../pool/runBatch.ts';
import type { ItemFn, PoolInput } from '../../pool/types.ts';
import { loadUserModule } from '../loadModule.ts';

/** Options of `sluice batch`. */
interface BatchCommandOptions {
  concurrency?: string;
  report?: string;
  timeout?: string;
  retries?: string;
  progress?: boolean;
}

/** How often a plain progress line is printed when stderr is not a terminal. */
const PLAIN_PROGRESS_EVERY_MS = 2000;
/** Failed items listed under the summary. */
const MAX_FAILURES_SHOWN = 10;

/**
 * `sluice batch <module>`: runs `process` over `items` exported by a module (JavaScript or
 * TypeScript) with bounded concurrency, shows progress on stderr and prints a summary table.
 * Exit code: 0 when no item failed (skipped items are not failures), 1 when at least one failed
 * or the options are invalid, 130 when interrupted (SIGINT/SIGTERM; the partial report is still
 * printed and written).
 */
export function register(program: Command): void {
  program
    .command('batch')
    .description(
      'Process every item of a module with bounded concurrency; progress bar, summary, JSON report',
    )
    .argument(
      '<module>',
      'module exporting `items` (array, iterable, async iterable, or a function returning one) and `process` (or a default function)',
    )
    .option('-c, --concurrency <n>', 'items in flight at most (default: SLUICE_MAX_WORKERS, else 4)')
    .option('-r, --report <file>', 'write the JSON report to this file')
    .option('-t, --timeout <duration>', 'time limit per attempt, e.g. 500ms, 30s')
    .option('--retries <n>', 'retries per failed item (0 = one attempt)', '0')
    .option('--no-progress', 'do not show progress')
    .action(async (file: string, opts: BatchCommandOptions) => {
      const batchOpts: RunBatchOptions = {};
      if (opts.concurrency !== undefined)
        batchOpts.concurrency = parseCount('--concurrency', opts.concurrency, 1);
      if (opts.timeout !== undefined) batchOpts.timeout = parseDuration(opts.timeout, '--timeout');
      const retries = parseCount('--retries', opts.retries ?? '0', 0);
      if (retries > 0) batchOpts.retry = { attempts: retries + 1 };
      if (opts.report !== undefined) batchOpts.reportFile = opts.report;

      const mod = await loadUserModule(file);
      const fn = (mod.process ?? mod.default) as ItemFn<unknown, unknown> | undefined;
      if (typeof fn !== 'function') {
        throw configError('process', `a function exported by ${file} as \`process\` or default`, fn);
      }
      const items = await resolveItems(mod.items, file);

      const ac = new AbortController();
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        ac.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress =
        opts.progress === false ? undefined : createProgress(Array.isArray(items) ? items.length : undefined);
      let report: BatchReport;
      try {
        report = await runBatch(items, fn, {
          ...batchOpts,
          signal: ac.signal,
          ...(progress ? { onProgress: progress.update } : {}),
        });
      } finally {
        progress?.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.stdout.write(`${summaryTable(report)}\n`);
      const failures = failuresTable(report);
      if (failures) process.stdout.write(`${failures}\n`);
      if (opts.report !== undefined) process.stdout.write(`report: ${opts.report}\n`);
      if (interrupted) process.exitCode = 130;
      else if (report.failed > 0) process.exitCode = 1;
    });
}

function parseCount(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
    throw configError(flag, `an integer >= ${min}`, raw);
  }
  return n;
}

async function resolveItems(exported: unknown, file: string): Promise<PoolInput<unknown>> {
  let items = exported;
  if (typeof items === 'function') items = await (items as () => unknown)();
  const iterable =
    items !== null &&
    items !== undefined &&
    typeof items !== 'string' &&
    (typeof (items as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
  if (!iterable) {
    throw configError(
      'items',
      `an array, iterable, async iterable or a function returning one, exported by ${file}`,
      items,
    );
  }
  return items as PoolInput<unknown>;
}

interface ProgressView {
  update: (p: BatchProgress) => void;
  stop: () => void;
}

/** A progress bar on a terminal; otherwise a plain line every few seconds on stderr. */
function createProgress(total: number | undefined): ProgressView {
  let last: BatchProgress = { done: 0, ok: 0, failed: 0, skipped: 0, total };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          total === undefined
            ? 'batch | {value} done | ok {ok} | failed {failed} | skipped {skipped} | {duration_formatted}'
            : 'batch [{bar}] {percentage}% | {value}/{total} | ok {ok} | failed {failed} | skipped {skipped} | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { ok: 0, failed: 0, skipped: 0 });
    return {
      update: (p) => {
        last = p;
        bar.update(p.done, { ok: p.ok, failed: p.failed, skipped: p.skipped });
      },
      stop: () => bar.stop(),
    };
  }
  let timer: Timer | undefined;
  const tick = () => {
    const t = last.total === undefined ? '' : `/${last.total}`;
    process.stderr.write(
      `batch: ${last.done}${t} done (ok ${last.ok}, failed ${last.failed}, skipped ${last.skipped})\n`,
    );
    timer = systemClock.setTimeout(tick, PLAIN_PROGRESS_EVERY_MS);
  };
  timer = systemClock.setTimeout(tick, PLAIN_PROGRESS_EVERY_MS);
  return {
    update: (p) => {
      last = p;
    },
    stop: () => {
      if (timer !== undefined) systemClock.clearTimeout(timer);
    },
  };
}

function tableStyle() {
  // No colour codes when the output is not a terminal (files, pipes, CI logs).
  return process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
}

/** The summary: total / ok / skipped / failed / concurrency / duration. */
export function summaryTable(report: BatchReport): string {
  const table = new Table({
    head: ['total', 'ok', 'skipped', 'failed', 'concurrency', 'duration'],
    ...tableStyle(),
  });
  table.push([
    report.total,
    report.ok,
    report.skipped,
    report.failed,
    report.concurrency,
    formatMs(report.durationMs),
  ]);
  return table.toString();
}

/** The first failed items (index, attempts, code, message), or `undefined` when none failed. */
function failuresTable(report: BatchReport): string | undefined {
  if (report.failed === 0) return undefined;
  const table = new Table({ head: ['failed item', 'attempts', 'code', 'error'], ...tableStyle() });
  let shown = 0;
  for (const d of report.details) {
    if (d.status !== 'error') continue;
    if (shown++ === MAX_FAILURES_SHOWN) break;
    const message = d.error?.message ?? '';
    table.push([
      d.index,
      d.attempts,
      d.error?.code ?? '',
      message.length > 80 ? `${message.slice(0, 77)}...` : message,
    ]);
  }
  const more = report.failed - Math.min(report.failed, MAX_FAILURES_SHOWN);
  return more > 0
    ? `${table.toString()}\n... and ${more} more failed items (see the report)`
    : table.toString();
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${((ms % 60_000) / 1000).toFixed(0)} s`;
}
