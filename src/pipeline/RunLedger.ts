// The bookkeeping of a pipeline run: counters, collected values and failures, and the report.
import type { OffsetTracker } from './OffsetTracker.ts';
import type { ItemFailure, PipelineReport, Strategy } from './types.ts';
import type { Worker } from './Worker.ts';

const HOLE: unique symbol = Symbol('hole');

/** Counters and collected results of one run. @internal */
export class RunLedger<T, R> {
  total = 0;
  ok = 0;
  failed = 0;
  retries = 0;
  cancelled = 0;
  peakInFlight = 0;
  private readonly values: (R | typeof HOLE | R[])[] = [];
  private readonly failures: ItemFailure<T>[] = [];
  /** Broadcast: deliveries still owed per sequence number. */
  private readonly broadcastLeft = new Map<number, number>();
  private readonly startedAt: string;

  constructor(
    private readonly strategy: Strategy,
    private readonly collect: boolean,
    private readonly startedAtMs: number,
  ) {
    this.startedAt = new Date(startedAtMs).toISOString();
  }

  /** Item `seq` was taken; with broadcast, `deliveries` workers each get it. */
  admitted(seq: number, deliveries: number): void {
    this.total++;
    if (!this.collect) {
      if (deliveries > 1) this.broadcastLeft.set(seq, deliveries);
      return;
    }
    if (this.strategy === 'broadcast') {
      this.values[seq] = [];
      this.broadcastLeft.set(seq, deliveries);
    } else this.values[seq] = HOLE;
  }

  /** An item failed before it reached a worker (its key could not be computed). */
  failedBeforeRouting(failure: ItemFailure<T>): void {
    this.total++;
    this.failed++;
    if (this.collect) {
      this.values[failure.seq] = HOLE;
      this.failures.push(failure);
    }
  }

  /** Keeps a failure for `collect()`. */
  recordFailure(failure: ItemFailure<T>): void {
    if (this.collect) this.failures.push(failure);
  }

  /**
   * One delivery of `seq` finished (ok with `value`, or failed). Returns true when the item
   * is done (with broadcast: its last delivery).
   */
  delivered(seq: number, ok: boolean, value: unknown): boolean {
    if (ok) this.ok++;
    else this.failed++;
    if (this.strategy !== 'broadcast') {
      if (ok && this.collect) this.values[seq] = value as R;
      return true;
    }
    if (ok && this.collect) (this.values[seq] as R[]).push(value as R);
    return this.oneLess(seq);
  }

  /** One delivery of `seq` was cancelled by a stop; true when the item is done. */
  abandoned(seq: number): boolean {
    this.cancelled++;
    return this.strategy !== 'broadcast' || this.oneLess(seq);
  }

  private oneLess(seq: number): boolean {
    const left = (this.broadcastLeft.get(seq) ?? 1) - 1;
    if (left > 0) {
      this.broadcastLeft.set(seq, left);
      return false;
    }
    this.broadcastLeft.delete(seq);
    return true;
  }

  /** Results collected so far (input order) and failures (by sequence, then worker). */
  collected(): { results: R[]; errors: ItemFailure<T>[] } {
    const results: R[] = [];
    const bc = this.strategy === 'broadcast';
    for (const v of this.values) {
      if (v === HOLE || v === undefined) continue;
      if (bc) for (const x of v as R[]) results.push(x);
      else results.push(v as R);
    }
    const errors = [...this.failures].sort((a, b) => a.seq - b.seq || a.workerId - b.workerId);
    return { results, errors };
  }

  /** The report at `now`. */
  report(
    now: number,
    workers: readonly Worker<unknown>[],
    tracker: OffsetTracker,
    stopReason: string | undefined,
  ): PipelineReport {
    const durationMs = Math.max(0, now - this.startedAtMs);
    const deliveries = this.ok + this.failed;
    const r: PipelineReport = {
      startedAt: this.startedAt,
      finishedAt: new Date(now).toISOString(),
      durationMs,
      total: this.total,
      ok: this.ok,
      failed: this.failed,
      retries: this.retries,
      cancelled: this.cancelled,
      restarts: workers.reduce((n, w) => n + w.restarts, 0),
      maxWorkers: workers.length,
      strategy: this.strategy,
      peakInFlight: this.peakInFlight,
      lowWatermark: tracker.low,
      itemsPerSecond: durationMs > 0 ? Math.round((deliveries / durationMs) * 1000) : deliveries,
      workers: workers.map((w) => ({
        workerId: w.id,
        processed: w.processed,
        failed: w.failed,
        restarts: w.restarts,
      })),
    };
    return stopReason === undefined ? r : { ...r, stopReason };
  }
}
