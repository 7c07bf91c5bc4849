// One owned partition of a runner: read, handle each event under its lease guard, commit fenced, drain or lose it.
import type { Lease, LogEvent } from '../../backend/Backend.ts';
import { isSluiceError, SluiceError } from '../../core/errors.ts';
import { traceAttempt, traceBatch, traceCommit } from '../../telemetry/spans.ts';
import { ExpiryGate } from '../../time/expiry.ts';
import { LeaseGuard } from './LeaseGuard.ts';
import type { PartitionPoller } from './PartitionPoller.ts';
import type { ResolvedRunnerOptions, RunnerEventContext, RunnerHandlerContext } from './runnerOptions.ts';

/**
 * Lifecycle of one owned partition: `running` (reading and processing), `draining` (finishing the
 * in-flight batch before a release or stop), `stopped` (drained; offsets committed) or `lost`
 * (lease lost or commit fenced: nothing more is committed).
 */
export type PartitionWorkerState = 'running' | 'draining' | 'stopped' | 'lost';

/** Why a partition was lost. */
export type PartitionLossReason = 'fenced' | 'lease_lost' | 'error';

/** Thrown inside an attempt when the partition is gone: not retried. */
const GONE = new SluiceError('LEASE_LOST', 'The partition was lost', { retryable: false });

/** What a {@link PartitionWorker} reports to its runner. */
export interface PartitionWorkerHost {
  committed(worker: PartitionWorker<unknown>, offset: number, count: number): void;
  lost(worker: PartitionWorker<unknown>, reason: PartitionLossReason, error?: unknown): void;
  error(worker: PartitionWorker<unknown>, during: string, error: unknown): void;
  /** Writes a commit of `partition` (with the runner's group commit); rejects `FENCED` when refused. */
  writeCommit(
    partition: number,
    offset: number,
    fence: { lease: string; token: number } | undefined,
  ): Promise<void>;
}

/**
 * Processes one owned partition: reads batches from the committed offset, runs the handler on
 * each event in offset order, commits after each batch (fenced by the partition lease when there
 * is one). A failed batch commits the events that succeeded and is retried after a backoff.
 * Before each event the lease is checked locally against its known expiry (no backend call): once
 * the expiry has passed without a renewal, no further event of the batch is handled and the
 * handlers' `ctx.signal` is aborted (see {@link LeaseGuard}).
 * @internal Used by {@link PartitionedRunner}.
 */
export class PartitionWorker<T> {
  state: PartitionWorkerState = 'running';
  /** Next offset to process (= committed offset once a batch is committed). */
  offset: number;
  /** Events handled successfully (including ones whose commit was later fenced). */
  handled = 0;
  /** Set while the current batch waits to be retried after a failed attempt (for status views). */
  retrying: { since: number; until: number; attempt: number; error: string } | undefined;
  /** The commit being written, if any (settles, never rejects). */
  commitInFlight: Promise<void> | undefined;
  /** Resolves when the worker's loop has exited. */
  readonly done: Promise<void>;
  private readonly guard: LeaseGuard;
  /** Aborted when the worker stops running (drain, loss, forced stop): ends batch retries. */
  private readonly running = new AbortController();
  /** Aborted on a loss or forced stop only: ends commit retries (a drain still commits). */
  private readonly halt = new AbortController();
  private wakeUp: (() => void) | undefined;
  /** Events past their TTL are dead-lettered (`EXPIRED`) instead of handled. */
  private readonly expiry: ExpiryGate;
  /** Events read ahead (offsets from {@link offset} on), handed out `batchSize` at a time. */
  private ahead: LogEvent<T>[] = [];

  constructor(
    readonly partition: number,
    lease: Lease | undefined,
    offset: number,
    private readonly opts: ResolvedRunnerOptions<T>,
    private readonly host: PartitionWorkerHost,
    private readonly poller: PartitionPoller,
  ) {
    this.offset = offset;
    this.guard = new LeaseGuard(lease, opts.clock, partition, () => this.wake());
    this.expiry = new ExpiryGate(opts.backend, opts.topic, opts.group, opts.clock);
    this.done = this.loop().catch((e: unknown) => {
      this.host.error(this as PartitionWorker<unknown>, 'loop', e);
      if (this.state === 'running' || this.state === 'draining') this.state = 'stopped';
    });
  }

  /** The lease on the partition (`undefined` in fixed mode). */
  get lease(): Lease | undefined {
    return this.guard.lease;
  }

  /** The runner renewed the lease: a new expiry (re-arms the signal's expiry timer). */
  renewed(lease: Lease): void {
    this.guard.renewed(lease);
  }

  /** The handler context of the current hold (its signal is the lease's current one). */
  private context(): RunnerHandlerContext {
    return {
      partition: this.partition,
      fencingToken: this.fencingToken,
      fence: this.guard.fence,
      nodeName: this.opts.nodeName,
      signal: this.guard.signal,
    };
  }

  /** The fencing token processed under (0 in fixed mode). */
  get fencingToken(): number {
    return this.lease?.fencingToken ?? 0;
  }

  /** Finish the in-flight batch, commit it, then stop. */
  drain(): void {
    if (this.state !== 'running') return;
    this.state = 'draining';
    this.running.abort();
    this.wake();
  }

  /** Stop at once without committing anything more (the lease is gone). */
  lose(): void {
    if (this.state === 'lost' || this.state === 'stopped') return;
    this.state = 'lost';
    const reason = new SluiceError('LEASE_LOST', `Partition ${this.partition} was lost`);
    this.guard.end(reason);
    this.running.abort(reason);
    this.halt.abort(reason);
    this.wake();
  }

  /** Aborts in-flight handlers (used when a drain takes longer than `shutdownTimeout`); what finished is still committed. */
  forceStop(): void {
    if (this.state === 'running') this.state = 'draining';
    const reason = new SluiceError('ABORTED', `Partition ${this.partition} is shutting down`);
    this.guard.end(reason);
    this.running.abort(reason);
    this.halt.abort(reason);
    this.wake();
  }

  /** Waits in the runner's poller; `undefined` when woken (drain, loss, lease expiry). */
  private waitForEvents(first: boolean): Promise<LogEvent[] | undefined> {
    if (this.state !== 'running') return Promise.resolve(undefined);
    const poller = this.poller;
    const wait = poller.wait(this.partition, this.offset, first);
    const cancel = () => poller.cancel(this.partition);
    this.wakeUp = cancel;
    return wait.then((events) => {
      if (this.wakeUp === cancel) this.wakeUp = undefined;
      return events;
    });
  }

  /** Ends an idle wait or pause (a drain, a loss, a lease change). */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private async loop(): Promise<void> {
    try {
      await this.work();
    } finally {
      this.guard.dispose();
    }
  }

  /**
   * Reads, handles and commits batches while running. Each batch is a run of the runner's attempt
   * policy ({@link batchAttempt}): a failed attempt (read error, or a handler error after the
   * events before it were committed) is retried with `retryBackoff` from the next uncommitted
   * offset; a drain or loss ends the wait.
   */
  private async work(): Promise<void> {
    const { batchSize, pollIntervalMs, batchPolicy } = this.opts;
    let direct = false;
    let first = true;
    while (this.state === 'running') {
      if (!this.guard.valid()) {
        // Not renewed in time: process nothing until the runner renews or drops the lease.
        if (this.guard.ended) break;
        await this.pause(pollIntervalMs);
        continue;
      }
      let polled: LogEvent<T>[] | undefined;
      if (!direct) {
        // Caught up: wait with the runner's other idle partitions (one backend call for all).
        polled = (await this.waitForEvents(first)) as LogEvent<T>[] | undefined;
        first = false;
        if (polled === undefined) continue;
      }
      const given = polled;
      const out = await batchPolicy.execute(
        ({ attempt }) => this.batchAttempt(attempt === 1 ? given : undefined, attempt),
        {
          signal: this.running.signal,
          name: `batch of partition ${this.partition}`,
          onRetry: ({ attempt, delayMs, error }) => {
            const why = (error as { cause?: unknown }).cause ?? error; // the handler's own error
            const since = this.retrying?.since ?? this.opts.clock.now();
            const until = this.opts.clock.now() + delayMs;
            this.retrying = {
              since,
              until,
              attempt,
              error: why instanceof Error ? why.message : String(why),
            };
          },
        },
      );
      this.retrying = undefined;
      if (out.kind !== 'ok') {
        // Drained, lost or fenced; anything else ends the partition here too.
        if (this.state === 'running') this.host.lost(this as PartitionWorker<unknown>, 'error', out.error);
        break;
      }
      // A full batch (or events read ahead): more is there, read it directly. Otherwise wait as idle.
      direct = out.value >= batchSize || this.ahead.length > 0;
    }
    if (this.state === 'draining') this.state = 'stopped';
  }

  /**
   * One attempt at a batch: read it (unless polled already), handle it, commit what was handled.
   * Throws to be retried (a read error, or the handler's error wrapped as retryable: every handler
   * error is retried); throws {@link GONE} when the partition is lost. Returns the batch length.
   */
  private async batchAttempt(given: LogEvent<T>[] | undefined, attempt: number): Promise<number> {
    const { backend, topic, batchSize, readSize } = this.opts;
    let events = given ?? (this.ahead[0]?.offset === this.offset ? this.ahead : undefined);
    this.ahead = [];
    if (events === undefined) {
      try {
        events = (await backend.read(topic, this.partition, this.offset, readSize)) as LogEvent<T>[];
      } catch (e) {
        if (this.state === 'running') this.host.error(this as PartitionWorker<unknown>, 'read', e);
        throw e;
      }
    }
    if (events.length > batchSize) {
      // Read `readSize` at a time, committed `batchSize` at a time.
      this.ahead = events.slice(batchSize);
      events = events.slice(0, batchSize);
    }
    if (events.length === 0) return 0;
    const { count, error } = await this.process(events, attempt);
    if (count < events.length) this.ahead = []; // a failed event: read again from the commit
    if (count > 0 && !(await this.commit(this.offset + count, count, events.slice(0, count)))) throw GONE;
    if (error !== undefined) {
      if (this.state === 'running') this.host.error(this as PartitionWorker<unknown>, 'handler', error);
      throw new SluiceError('HANDLER_FAILED', `The handler failed on partition ${this.partition}`, {
        cause: error,
        retryable: true,
      });
    }
    return events.length;
  }

  /** Runs the handler over a batch; returns how many leading events succeeded and the first error. */
  private async process(
    events: readonly LogEvent<T>[],
    attempt: number,
  ): Promise<{ count: number; error?: unknown }> {
    const { handler, batchHandler, group, topic } = this.opts;
    await this.expiry.ready();
    if (batchHandler !== undefined) {
      if (!this.guard.valid()) return { count: 0 };
      try {
        const at = { attempt, partition: this.partition, topic, group };
        const live = await this.expiry.drop(events);
        await traceBatch(live, at, () => batchHandler(live, this.context()));
        this.handled += events.length;
        return { count: events.length };
      } catch (error) {
        return { count: 0, error };
      }
    }
    let count = 0;
    for (const event of events) {
      // Checked before every event, by the clock against the known expiry: a runner resumed after a
      // pause longer than its lease handles nothing more under it.
      if (this.state === 'lost' || !this.guard.valid()) break;
      if (this.expiry.expired(event)) {
        await this.expiry.deadLetter(event);
        count++;
        continue;
      }
      const ctx: RunnerEventContext = {
        ...this.context(),
        offset: event.offset,
        idempotencyKey: `${group}:${topic}:${this.partition}:${event.offset}`,
      };
      try {
        const at = { attempt, key: event.key, partition: this.partition, group };
        await traceAttempt(event, at, () => handler!(event, ctx));
      } catch (error) {
        return { count, error };
      }
      count++;
      this.handled++;
    }
    return { count };
  }

  /**
   * Commits `offset` (through the runner's group commit) with the runner's commit policy (retryable backend errors are retried
   * with `retryBackoff`; a drain does not cut the wait short, a loss or forced stop does).
   * Returns false when the partition is lost: `FENCED`, another failure, or lost meanwhile.
   */
  private async commit(offset: number, count: number, events: readonly LogEvent<T>[]): Promise<boolean> {
    const { group, topic, commitPolicy } = this.opts;
    const out = await commitPolicy.execute(
      async () => {
        if (this.state === 'lost') throw GONE;
        const lease = this.lease;
        const fence = lease === undefined ? undefined : { lease: lease.name, token: lease.fencingToken };
        const pending = traceCommit({ group, topic, partition: this.partition, offset }, events, () =>
          this.host.writeCommit(this.partition, offset, fence),
        );
        this.commitInFlight = pending.then(
          () => {},
          () => {},
        );
        try {
          await pending;
        } finally {
          this.commitInFlight = undefined;
        }
      },
      {
        signal: this.halt.signal,
        name: `commit of partition ${this.partition}`,
        onRetry: ({ error }) => this.host.error(this as PartitionWorker<unknown>, 'commit', error),
      },
    );
    if (out.kind === 'ok') {
      this.offset = offset;
      this.host.committed(this as PartitionWorker<unknown>, offset, count);
      return true;
    }
    const error = out.kind === 'aborted' ? (out.lastError ?? out.error) : out.error;
    if (this.state === 'lost' || error === GONE) return false;
    if (isSluiceError(error) && error.code === 'FENCED') {
      this.host.lost(this as PartitionWorker<unknown>, 'fenced', error);
      return false;
    }
    this.host.error(this as PartitionWorker<unknown>, 'commit', error);
    this.host.lost(this as PartitionWorker<unknown>, 'error', error);
    return false;
  }

  /** Waits `ms`, or until woken (a drain, a loss, a renewal of an expired lease). */
  private pause(ms: number): Promise<void> {
    const { clock } = this.opts;
    return new Promise<void>((resolve) => {
      if (this.state !== 'running') {
        resolve();
        return;
      }
      const timer = clock.setTimeout(() => {
        if (this.wakeUp === finish) this.wakeUp = undefined;
        resolve();
      }, ms);
      const finish = () => {
        clock.clearTimeout(timer);
        resolve();
      };
      this.wakeUp = finish;
    });
  }
}
