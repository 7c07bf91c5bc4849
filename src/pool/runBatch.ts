// runBatch: mapConcurrent with a summary report (counts, timing, per-item detail), progress callbacks and a report file.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { configError } from '../core/errors.ts';
import { BatchRun } from './BatchRun.ts';
import { assertFn, assertInput, resolveOptions } from './options.ts';
import { ABORTED_REASON } from './results.ts';
import type { ItemFn, ItemResult, MapConcurrentOptions, PoolInput } from './types.ts';

/** Per-item line of a {@link BatchReport}. */
export interface BatchItemDetail {
  readonly index: number;
  readonly status: ItemResult<unknown>['status'];
  /** Attempts made (0 for items that never started). */
  readonly attempts: number;
  /** Lane that ran the item (absent for skipped items). */
  readonly workerId?: number;
  /** For failed items: the last error's message, code (when it has one) and name. */
  readonly error?: { readonly message: string; readonly code?: string; readonly name: string };
  /** For skipped items: why. */
  readonly reason?: string;
}

/** Summary of a {@link runBatch} call; also what `reportFile` contains (as JSON). */
export interface BatchReport {
  /** ISO-8601 time the batch started (from the batch's clock). */
  readonly startedAt: string;
  /** ISO-8601 time the batch finished. */
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Number of items with a result. */
  readonly total: number;
  readonly concurrency: number;
  readonly ok: number;
  readonly skipped: number;
  readonly failed: number;
  /** Whether the batch was cancelled through its signal. */
  readonly aborted: boolean;
  /** One entry per item, in input order. */
  readonly details: BatchItemDetail[];
}

/** Progress snapshot passed to `onProgress` after every settled item. */
export interface BatchProgress {
  readonly done: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  /** Number of items when known up front (array input). */
  readonly total: number | undefined;
}

/** Options of {@link runBatch}. */
export interface RunBatchOptions<T = unknown> extends MapConcurrentOptions<T> {
  /** Where to write the JSON report. Written atomically (temporary file, then rename). */
  reportFile?: string;
  /** Called after every settled item. Errors it throws are reported as process warnings. */
  onProgress?: (progress: BatchProgress) => void;
}

/**
 * Runs `fn` over `items` like {@link mapConcurrent} and returns a {@link BatchReport} (counts,
 * timing, one detail line per item) instead of the values; optionally writes the report as JSON
 * to `reportFile`. Concurrency defaults to `SLUICE_MAX_WORKERS`, else 4.
 *
 * Cancellation through `signal` resolves with the partial report (`aborted: true`).
 *
 * @throws SluiceError `CONFIG_INVALID` for bad options (including a bad `SLUICE_MAX_WORKERS`).
 * @example
 * ```ts
 * const report = await runBatch(files, (f) => convert(f), { concurrency: 8, reportFile: 'out/report.json' });
 * if (report.failed > 0) process.exitCode = 1;
 * ```
 */
export async function runBatch<T, R>(
  items: PoolInput<T>,
  fn: ItemFn<T, R>,
  opts: RunBatchOptions<NoInfer<T>> = {},
): Promise<BatchReport> {
  assertInput(items);
  assertFn(fn);
  const resolved = resolveOptions(opts);
  const { reportFile, onProgress } = opts;
  if (reportFile !== undefined && (typeof reportFile !== 'string' || reportFile === '')) {
    throw configError('reportFile', 'a non-empty path', reportFile);
  }
  if (onProgress !== undefined) assertFn(onProgress, 'onProgress');
  const clock = resolved.clock;
  const started = clock.now();
  const details: BatchItemDetail[] = [];
  let ok = 0;
  let failed = 0;
  let skipped = 0;
  const total = Array.isArray(items) ? items.length : undefined;
  const run = new BatchRun(items, fn, resolved, (r) => {
    details[r.index] = toDetail(r);
    if (r.status === 'ok') ok++;
    else if (r.status === 'error') failed++;
    else skipped++;
    if (onProgress) {
      try {
        onProgress({ done: ok + failed + skipped, ok, failed, skipped, total });
      } catch (e) {
        process.emitWarning(`runBatch onProgress threw: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
  await run.run();
  const src = run.sourceError;
  if (src.failed) throw src.error;
  if (total !== undefined) {
    for (let i = run.pulled; i < total; i++) {
      details[i] = { index: i, status: 'skipped', attempts: 0, reason: ABORTED_REASON };
      skipped++;
    }
  }
  const finished = clock.now();
  const report: BatchReport = {
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    total: details.length,
    concurrency: resolved.concurrency,
    ok,
    skipped,
    failed,
    aborted: run.wasStopped,
    details,
  };
  if (reportFile !== undefined) await writeJsonAtomic(reportFile, report);
  return report;
}

function toDetail(r: ItemResult<unknown>): BatchItemDetail {
  if (r.status === 'ok') return { index: r.index, status: 'ok', attempts: r.attempts, workerId: r.workerId };
  if (r.status === 'skipped')
    return { index: r.index, status: 'skipped', attempts: r.attempts, reason: r.reason };
  const e = r.error as Error & { code?: unknown };
  const error =
    typeof e.code === 'string'
      ? { message: e.message, code: e.code, name: e.name }
      : { message: e.message, name: e.name };
  return { index: r.index, status: 'error', attempts: r.attempts, workerId: r.workerId, error };
}

/**
 * Writes `value` as pretty JSON to `file` atomically: readers see either the old file or the
 * complete new one, never a partial write. Creates the parent directory.
 */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
