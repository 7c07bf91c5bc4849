// A runner's group commit: the offset commits of all its partitions gathered for a bounded delay and written by one commitMany.
import type { Backend, CommitRequest } from '../../backend/Backend.ts';
import { fencedError } from '../../backend/common/errors.ts';
import type { Clock, Timer } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';

/** One commit waiting for its batch. */
interface PendingCommit {
  readonly request: CommitRequest;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Phase of the batcher: `open`, or `closed` (new commits are refused, pending ones still flushed). */
type BatcherPhase = 'open' | 'closed';

/** Options of a {@link CommitBatcher}. */
export interface CommitBatcherOptions {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly group: string;
  readonly topic: string;
  /**
   * How long the first commit of a batch waits for others (ms). `0`: the batch is written as soon
   * as the current macrotask ends, or — while a batch is being written — right after it.
   */
  readonly delayMs: number;
  /** A batch this large is written without waiting for the delay. */
  readonly maxBatch: number;
}

/**
 * Group commit for one runner. Each partition's commit is queued; a batch (every partition's
 * latest commit, each with its own fence) is written by one `commitMany` — one transaction on
 * PostgreSQL and SQLite, one script on Redis — at most `delayMs` after its first commit, and
 * only one batch is in flight at a time: the commits that arrive meanwhile form the next batch.
 * Each `commit` resolves when its batch is durable, or rejects: `FENCED` for its own refused
 * fence, or the batch's error (every commit of the batch is then retried by its worker).
 * @internal Used by {@link PartitionedRunner}.
 */
export class CommitBatcher {
  private phase: BatcherPhase = 'open';
  private queue: PendingCommit[] = [];
  private timer: Timer | undefined;
  private scheduled = false;
  private flushing: Promise<void> | undefined;
  /** Batches written (for stats and tests). */
  batches = 0;

  constructor(private readonly o: CommitBatcherOptions) {}

  /** Commits `offset` of `partition` (fenced by `fence` when given) with the next batch. */
  commit(partition: number, offset: number, fence: CommitRequest['fence']): Promise<void> {
    if (this.phase === 'closed') {
      return Promise.reject(new SluiceError('INVALID_STATE', 'The commit batcher is closed'));
    }
    return new Promise<void>((resolve, reject) => {
      const request: CommitRequest =
        fence === undefined ? { partition, offset } : { partition, offset, fence };
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Refuses new commits; resolves once the queued ones are written. */
  async close(): Promise<void> {
    this.phase = 'closed';
    while (this.flushing !== undefined || this.queue.length > 0) {
      if (this.flushing === undefined) this.flushNow();
      await this.flushing;
    }
  }

  private schedule(): void {
    if (this.flushing !== undefined) return; // written right after the batch in flight
    if (this.queue.length >= this.o.maxBatch) {
      this.flushNow();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.o.delayMs > 0) {
      this.timer = this.o.clock.setTimeout(() => this.flushNow(), this.o.delayMs);
    } else {
      // Without a delay the batch is the commits of this turn of the event loop: written before
      // any timer (a heartbeat's renewal) can run, as a direct commit would be.
      queueMicrotask(() => this.flushNow());
    }
  }

  private flushNow(): void {
    this.scheduled = false;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing !== undefined || this.queue.length === 0) return;
    // One entry per partition and batch: a second commit of a partition waits for the next one.
    const batch: PendingCommit[] = [];
    const rest: PendingCommit[] = [];
    const seen = new Set<number>();
    for (const c of this.queue) {
      if (seen.has(c.request.partition) || batch.length >= this.o.maxBatch) rest.push(c);
      else {
        seen.add(c.request.partition);
        batch.push(c);
      }
    }
    this.queue = rest;
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.flushNow();
    });
  }

  private async write(batch: readonly PendingCommit[]): Promise<void> {
    const { backend, group, topic } = this.o;
    this.batches++;
    try {
      const outcomes = await backend.commitMany(
        group,
        topic,
        batch.map((c) => c.request),
      );
      batch.forEach((c, i) => {
        const fence = c.request.fence;
        if (outcomes[i] === 'ok' || fence === undefined) c.resolve();
        else c.reject(fencedError(fence, { group, topic, partition: c.request.partition }));
      });
    } catch (e) {
      for (const c of batch) c.reject(e);
    }
  }
}
