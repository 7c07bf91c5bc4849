// `sluice batch`: runs a module's function over input lines with concurrency, timeout, retries, progress and a report.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { systemClock, type Timer } from '../../core/Clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import type { Limiter } from '../../flow/Limiter.ts';
import { parseRate } from '../../flow/options.ts';
import { concurrencyLimit, rateLimit } from '../../flow/rateLimit.ts';
import { type BatchProgress, type BatchReport, type RunBatchOptions, runBatch } from '../../pool/runBatch.ts';
import type { ItemFn, PoolInput } from '../../pool/types.ts';
import { loadUserModule } from '../loadModule.ts';
import { newTable } from '../tableStyle.ts';

/** Options of `sluice batch`. */
interface BatchCommandOptions {
  concurrency?: string;
  report?: string;
  timeout?: string;
  retries?: string;
  progress?: boolean;
  rate?: string;
  perKey?: string;
  perKeyConcurrency?: string;
  perKeyRate?: string;
}

/** The limiters a `sluice batch` run made from its flags (read live by the progress line). */
interface BatchLimiters {
  readonly rate?: Limiter<unknown>;
  readonly perKeyRate?: Limiter<unknown>;
  readonly perKeyConcurrency?: Limiter<unknown>;
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
    .option('--rate <n/period>', 'calls started at most, for the whole batch, e.g. 100/s, 5/1m, 0.5/s')
    .option(
      '--per-key <field>',
      "the item field that keys the --per-key-* limits (default: the module's exported `key(item)` function)",
    )
    .option('--per-key-concurrency <n>', 'items of one key in flight at most')
    .option('--per-key-rate <n/period>', 'calls started at most per key, e.g. 10/s')
    .option('--no-progress', 'do not show progress')
    .addHelpText(
      'after',
      [
        '',
        'Limits: --rate paces the whole batch; --per-key-concurrency and --per-key-rate apply to each',
        'key of an item, named by --per-key <field> or by a `key(item)` function the module exports.',
        'An item that throws RateLimitedError (e.g. on HTTP 429) pauses its key and is tried again',
        'without counting an attempt. The progress line says how many items wait on a limit.',
        '',
        'Example: sluice batch jobs/sync.ts --rate 100/s --per-key tenant --per-key-concurrency 2',
      ].join('\n'),
    )
    .action(async (file: string, opts: BatchCommandOptions) => {
      const batchOpts: RunBatchOptions = {};
      if (opts.concurrency !== undefined)
        batchOpts.concurrency = parseCount('--concurrency', opts.concurrency, 1);
      if (opts.timeout !== undefined) batchOpts.timeout = parseDuration(opts.timeout, '--timeout');
      const retries = parseCount('--retries', opts.retries ?? '0', 0);
      if (retries > 0) batchOpts.retry = { attempts: retries + 1 };
      if (opts.report !== undefined) batchOpts.reportFile = opts.report;
      const limitFlags = parseLimitFlags(opts);

      const mod = await loadUserModule(file);
      const fn = (mod.process ?? mod.default) as ItemFn<unknown, unknown> | undefined;
      if (typeof fn !== 'function') {
        throw configError('process', `a function exported by ${file} as \`process\` or default`, fn);
      }
      const items = await resolveItems(mod.items, file);
      const limiters = applyLimits(limitFlags, mod.key, batchOpts, file);

      const ac = new AbortController();
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        ac.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress =
        opts.progress === false
          ? undefined
          : createProgress(Array.isArray(items) ? items.length : undefined, limiters);
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

/** The limit flags of `sluice batch`, parsed (before the module is loaded). */
interface LimitFlags {
  readonly rate?: { rate: number; per: number };
  readonly perKeyRate?: { rate: number; per: number };
  readonly perKeyConcurrency?: number;
  readonly perKeyField?: string;
}

function parseLimitFlags(opts: BatchCommandOptions): LimitFlags {
  const flags: {
    rate?: { rate: number; per: number };
    perKeyRate?: { rate: number; per: number };
    perKeyConcurrency?: number;
    perKeyField?: string;
  } = {};
  if (opts.rate !== undefined) flags.rate = parseRate(opts.rate, '--rate');
  if (opts.perKeyRate !== undefined) flags.perKeyRate = parseRate(opts.perKeyRate, '--per-key-rate');
  if (opts.perKeyConcurrency !== undefined)
    flags.perKeyConcurrency = parseCount('--per-key-concurrency', opts.perKeyConcurrency, 1);
  if (opts.perKey !== undefined) {
    if (opts.perKey.trim() === '') throw configError('--per-key', 'an item field name', opts.perKey);
    flags.perKeyField = opts.perKey;
  }
  return flags;
}

/** The key of an item from `--per-key <field>`: a string or finite number, else CONFIG_INVALID. */
function fieldKey(field: string): (item: unknown) => string | number {
  return (item) => {
    const v =
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[field] : undefined;
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
    throw configError(`--per-key ${field}`, 'an item field holding a string or a finite number', v);
  };
}

/** Makes the limiters of the flags, sets them on `batchOpts` and returns them for the progress line. */
function applyLimits(
  flags: LimitFlags,
  exportedKey: unknown,
  batchOpts: RunBatchOptions,
  file: string,
): BatchLimiters {
  const out: {
    rate?: Limiter<unknown>;
    perKeyRate?: Limiter<unknown>;
    perKeyConcurrency?: Limiter<unknown>;
  } = {};
  if (flags.rate !== undefined) {
    out.rate = rateLimit({ ...flags.rate, name: 'rate' });
    batchOpts.rateLimit = out.rate;
  }
  const perKeyWanted = flags.perKeyRate !== undefined || flags.perKeyConcurrency !== undefined;
  if (!perKeyWanted) {
    if (flags.perKeyField !== undefined)
      throw configError('--per-key', 'given with --per-key-concurrency or --per-key-rate', flags.perKeyField);
    return out;
  }
  let key: (item: unknown) => string | number;
  if (flags.perKeyField !== undefined) key = fieldKey(flags.perKeyField);
  else if (typeof exportedKey === 'function') key = exportedKey as (item: unknown) => string | number;
  else
    throw configError(
      '--per-key',
      `an item field, or a \`key(item)\` function exported by ${file} (needed by --per-key-concurrency / --per-key-rate)`,
      undefined,
    );
  const perKey: NonNullable<RunBatchOptions['perKey']> = { key };
  if (flags.perKeyConcurrency !== undefined) {
    out.perKeyConcurrency = concurrencyLimit({ max: flags.perKeyConcurrency, name: 'per-key-concurrency' });
    perKey.concurrency = out.perKeyConcurrency;
  }
  if (flags.perKeyRate !== undefined) {
    out.perKeyRate = rateLimit({ ...flags.perKeyRate, name: 'per-key-rate' });
    perKey.rateLimit = out.perKeyRate;
  }
  batchOpts.perKey = perKey;
  return out;
}

/** What waits on a limiter now, e.g. `waiting on rate limit: 12`; empty when nothing waits. */
function limiterWaitText(l: BatchLimiters): string {
  const parts: string[] = [];
  const rate = (l.rate?.stats().waiting ?? 0) + (l.perKeyRate?.stats().waiting ?? 0);
  const parked = (l.rate?.stats().parked ?? 0) + (l.perKeyRate?.stats().parked ?? 0);
  const slots = l.perKeyConcurrency?.stats().waiting ?? 0;
  if (rate > 0) parts.push(`waiting on rate limit: ${rate}`);
  if (slots > 0) parts.push(`waiting on per-key concurrency: ${slots}`);
  if (parked > 0) parts.push(`paused keys: ${parked}`);
  return parts.join(', ');
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

/** How often the terminal bar refreshes what waits on a limiter. */
const BAR_LIMITS_EVERY_MS = 250;

/**
 * A progress bar on a terminal; otherwise a plain line every few seconds on stderr. Both say
 * how many items wait on a limiter (read live from the limiters, also while nothing settles).
 */
function createProgress(total: number | undefined, limiters: BatchLimiters): ProgressView {
  let last: BatchProgress = { done: 0, ok: 0, failed: 0, skipped: 0, total };
  const limits = () => {
    const t = limiterWaitText(limiters);
    return t === '' ? '' : ` | ${t}`;
  };
  let timer: Timer | undefined;
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          total === undefined
            ? 'batch | {value} done | ok {ok} | failed {failed} | skipped {skipped} | {duration_formatted}{limits}'
            : 'batch [{bar}] {percentage}% | {value}/{total} | ok {ok} | failed {failed} | skipped {skipped} | ETA {eta_formatted}{limits}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { ok: 0, failed: 0, skipped: 0, limits: '' });
    const refresh = () => {
      bar.update({ limits: limits() });
      timer = systemClock.setTimeout(refresh, BAR_LIMITS_EVERY_MS);
    };
    timer = systemClock.setTimeout(refresh, BAR_LIMITS_EVERY_MS);
    return {
      update: (p) => {
        last = p;
        bar.update(p.done, { ok: p.ok, failed: p.failed, skipped: p.skipped, limits: limits() });
      },
      stop: () => {
        if (timer !== undefined) systemClock.clearTimeout(timer);
        bar.stop();
      },
    };
  }
  const tick = () => {
    const t = last.total === undefined ? '' : `/${last.total}`;
    process.stderr.write(
      `batch: ${last.done}${t} done (ok ${last.ok}, failed ${last.failed}, skipped ${last.skipped})${limits()}\n`,
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

/** The summary: total / ok / skipped / failed / concurrency / duration. */
export function summaryTable(report: BatchReport): string {
  const table = newTable(['total', 'ok', 'skipped', 'failed', 'concurrency', 'duration']);
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
  const table = newTable(['failed item', 'attempts', 'code', 'error']);
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
