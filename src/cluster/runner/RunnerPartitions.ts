// The partitions a runner holds: their workers, the ones being released, and what happens when one is acquired, released or lost.
import type { Lease } from '../../backend/Backend.ts';
import type { TypedEmitter } from '../../core/events.ts';
import { CommitBatcher } from './CommitBatcher.ts';
import { LeaseReleaser } from './LeaseReleaser.ts';
import { PartitionPoller } from './PartitionPoller.ts';
import { type PartitionLossReason, PartitionWorker, type PartitionWorkerHost } from './PartitionWorker.ts';
import type { RunnerEvents } from './runnerEvents.ts';
import type { ResolvedRunnerOptions } from './runnerOptions.ts';
import type { RunnerStats } from './runnerTypes.ts';

/** The counters a runner reports in its stats (besides what its live workers handled). */
export interface RunnerCounters {
  handled: number;
  commits: number;
  acquired: number;
  released: number;
  lost: number;
  rebalances: number;
}

/** Where a runner's idle workers wait, and where their commits and lease releases go. */
export interface RunnerIo {
  readonly poller: PartitionPoller;
  readonly commits: CommitBatcher;
  readonly releases: LeaseReleaser;
}

/** The poller, commit batcher and lease releaser of a runner starting on `opts.topic`. */
export function runnerIo<T>(opts: ResolvedRunnerOptions<T>, events: TypedEmitter<RunnerEvents>): RunnerIo {
  const { backend, clock, topic } = opts;
  return {
    poller: new PartitionPoller({
      backend,
      topic,
      batchSize: opts.readSize,
      intervalMs: opts.pollIntervalMs,
      clock,
      onError: (error) => events.emit('error', { error, during: 'read' }),
    }),
    commits: new CommitBatcher({
      backend,
      clock,
      group: opts.group,
      topic,
      delayMs: opts.commitDelayMs,
      maxBatch: 1000,
    }),
    releases: new LeaseReleaser(backend),
  };
}

/**
 * The workers of a runner's partitions and their hand-overs. A released or lost partition stays
 * in {@link releasing} until its worker's in-flight handler returned (and, for a release, its
 * batch is committed and its lease released), so it is never acquired again before that.
 * @internal Used by {@link PartitionedRunner}.
 */
export class RunnerPartitions<T> implements PartitionWorkerHost {
  readonly workers = new Map<number, PartitionWorker<T>>();
  readonly releasing = new Map<number, Promise<void>>();
  /** Leases of lost workers not yet released (see {@link releaseOrphans}). */
  private readonly orphans = new Map<number, Lease>();
  readonly counters: RunnerCounters = {
    handled: 0,
    commits: 0,
    acquired: 0,
    released: 0,
    lost: 0,
    rebalances: 0,
  };
  /** Set once the runner started: where idle workers wait, where commits and releases go. */
  io: RunnerIo | undefined;

  constructor(
    private readonly opts: ResolvedRunnerOptions<T>,
    private readonly events: TypedEmitter<RunnerEvents>,
  ) {}

  /** Partitions owned and being processed now, ascending. */
  assigned(): number[] {
    return [...this.workers.values()]
      .filter((w) => w.state === 'running')
      .map((w) => w.partition)
      .sort((a, b) => a - b);
  }

  /** Events handled so far, by workers gone and alive. */
  handled(): number {
    let handled = this.counters.handled;
    for (const w of this.workers.values()) handled += w.handled;
    return handled;
  }

  /** Partitions whose batch waits for a retry, with why (for status views). */
  retrying(): NonNullable<RunnerStats['retrying']> {
    return [...this.workers.values()].flatMap((w) =>
      w.retrying ? [{ partition: w.partition, ...w.retrying }] : [],
    );
  }

  /** Starts the worker of a partition just acquired (or owned in fixed mode). */
  start(partition: number, lease: Lease | undefined, offset: number): void {
    const worker = new PartitionWorker<T>(partition, lease, offset, this.opts, this, this.io!.poller);
    this.workers.set(partition, worker);
    this.counters.acquired++;
    this.events.emit('partition_acquired', { partition, fencingToken: worker.fencingToken, offset });
  }

  committed(worker: PartitionWorker<unknown>, offset: number, count: number): void {
    this.counters.commits++;
    this.events.emit('committed', {
      partition: worker.partition,
      offset,
      count,
      fencingToken: worker.fencingToken,
    });
  }

  lost(worker: PartitionWorker<unknown>, reason: PartitionLossReason, error?: unknown): void {
    if (worker.state === 'lost') return;
    worker.lose();
    this.counters.lost++;
    this.counters.handled += worker.handled;
    worker.handled = 0;
    if ((this.workers.get(worker.partition) as PartitionWorker<unknown> | undefined) === worker) {
      this.workers.delete(worker.partition);
    }
    if (!this.releasing.has(worker.partition)) {
      // Not acquired again until the lost worker's in-flight handler has returned. Its lease may
      // still be ours (a commit that failed with a backend error): bound to the holder lease, it
      // would stay held for good, so it is released before the partition is acquired again.
      const lease = worker.lease;
      this.releasing.set(
        worker.partition,
        worker.done.then(() => {
          if (lease !== undefined) this.orphans.set(worker.partition, lease);
          this.releasing.delete(worker.partition);
        }),
      );
    }
    this.events.emit('partition_lost', {
      partition: worker.partition,
      fencingToken: worker.fencingToken,
      reason,
      offset: worker.offset,
      ...(error === undefined ? {} : { error }),
    });
  }

  error(worker: PartitionWorker<unknown>, during: string, error: unknown): void {
    this.events.emit('error', { error, during, partition: worker.partition });
  }

  writeCommit(
    partition: number,
    offset: number,
    fence: { lease: string; token: number } | undefined,
  ): Promise<void> {
    return this.io!.commits.commit(partition, offset, fence);
  }

  /**
   * Releases the leases lost workers left (in one call): a partition is acquired again only once
   * its old lease is free. Those whose release failed (the backend is unreachable) are tried
   * again at the next call.
   */
  async releaseOrphans(): Promise<void> {
    if (this.orphans.size === 0) return;
    const entries = [...this.orphans];
    const settled = await Promise.allSettled(entries.map(([, l]) => this.io!.releases.release(l)));
    settled.forEach((r, i) => {
      const [p, l] = entries[i]!;
      if (r.status === 'fulfilled' && this.orphans.get(p) === l) this.orphans.delete(p);
    });
  }

  /** Whether `partition` has a lost lease still to release. */
  orphaned(partition: number): boolean {
    return this.orphans.has(partition);
  }

  /** Drains a worker (its in-flight batch is committed), then releases its lease (batched with the other releases of that turn). */
  release(worker: PartitionWorker<T>, reason: 'rebalance' | 'stop'): Promise<void> {
    const existing = this.releasing.get(worker.partition);
    if (existing !== undefined) return existing;
    worker.drain();
    const done = worker.done.then(async () => {
      try {
        let held = true;
        if (worker.state !== 'lost' && worker.lease !== undefined) {
          try {
            held = await this.io!.releases.release(worker.lease);
          } catch (e) {
            this.events.emit('error', { error: e, during: 'release', partition: worker.partition });
          }
        }
        if (worker.state !== 'lost' && !held) {
          // Nothing to release: the lease had been taken over (a runner resumed after a long pause).
          this.counters.lost++;
          this.events.emit('partition_lost', {
            partition: worker.partition,
            fencingToken: worker.fencingToken,
            reason: 'lease_lost',
            offset: worker.offset,
          });
        } else if (worker.state !== 'lost') {
          this.counters.released++;
          this.events.emit('partition_released', {
            partition: worker.partition,
            fencingToken: worker.fencingToken,
            offset: worker.offset,
            reason,
          });
        }
      } finally {
        this.counters.handled += worker.handled;
        worker.handled = 0;
        if (this.workers.get(worker.partition) === worker) this.workers.delete(worker.partition);
        this.releasing.delete(worker.partition);
      }
    });
    this.releasing.set(worker.partition, done);
    return done;
  }

  /**
   * Releases every partition ({@link release} with reason `stop`) and waits for those already
   * being handed over; after `timeoutMs` the workers still busy are forced to stop.
   */
  async releaseAll(timeoutMs: number): Promise<void> {
    const drains = [...this.workers.values()].map((w) => this.release(w, 'stop'));
    const all = Promise.all([...drains, ...this.releasing.values()]);
    const force = this.opts.clock.setTimeout(() => {
      for (const w of this.workers.values()) w.forceStop();
    }, timeoutMs);
    try {
      await all;
    } finally {
      this.opts.clock.clearTimeout(force);
    }
  }
}
