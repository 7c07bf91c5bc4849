// The partitioned runner: start and stop, its partitions' workers, and the heartbeat and assignment passes that drive them.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Timer } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';
import { TypedEmitter } from '../../core/events.ts';
import { Membership } from '../membership/Membership.ts';
import { type CoordinationView, GroupCoordinator } from './GroupCoordinator.ts';
import type { PartitionPoller } from './PartitionPoller.ts';
import type { PartitionWorker } from './PartitionWorker.ts';
import { PeriodicTask } from './PeriodicTask.ts';
import { RunnerPartitions, runnerIo } from './RunnerPartitions.ts';
import { fixedPartitions, sameList } from './runnerAssignment.ts';
import type { RunnerEvents, RunnerState } from './runnerEvents.ts';
import { acquirePartitions, RunnerHolder, renewHolder, runnerHolderLeaseName } from './runnerLeases.ts';
import {
  type PartitionedRunnerOptions,
  type ResolvedRunnerOptions,
  resolveRunnerOptions,
} from './runnerOptions.ts';
import { type Runner, type RunnerStats, runnerMemberPrefix } from './runnerTypes.ts';

export { partitionLeaseName, type Runner, type RunnerStats, runnerMemberPrefix } from './runnerTypes.ts';

/**
 * Consumes a topic's partitions with a fleet of runners (processes or machines) that share a
 * backend. See {@link partitionedRunner}.
 */
export class PartitionedRunner<T = unknown> implements Runner {
  private readonly opts: ResolvedRunnerOptions<T>;
  private readonly events = new TypedEmitter<RunnerEvents>();
  private readonly parts: RunnerPartitions<T>;
  private readonly instance = randomUUID().slice(0, 8);
  /** `<nodeName>#<instance>`: identifies this runner incarnation in lease owners. */
  private readonly owner: string;
  /** Acquisitions so far: each one uses a fresh lease owner `<owner>#<n>`, so it gets a fresh fencing token. */
  private epoch = 0;
  private readonly membership: Membership;
  /** How often a runner waiting for a partition being handed over looks again. */
  private readonly handoverPollMs: number;
  private partitionCount = 0;
  private current: RunnerState = 'idle';
  private timer: Timer | undefined;
  private ticking: Promise<void> | undefined;
  /** The heartbeat (and renewal of every lease) on its own timer: never behind a slow assignment pass. */
  private readonly beats: PeriodicTask;
  private poller: PartitionPoller | undefined;
  private coordinator: GroupCoordinator | undefined;
  /** This runner's own lease: every partition lease is bound to it, so one renewal keeps them all. */
  private readonly holder: RunnerHolder;
  /** The coordination view of the last step, and when the next step is due. */
  private view: CoordinationView | undefined;
  private stepDueAt = 0;
  /** Wait before trying pending hand-overs again: `handoverPollMs`, doubled while nothing comes free (up to heartbeat / 4). */
  private handoverWaitMs = 0;
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  private readonly onAbort = () => void this.stop();

  constructor(options: PartitionedRunnerOptions<T>) {
    this.opts = resolveRunnerOptions(options, `${hostname()}-${process.pid}`);
    this.owner = `${this.opts.nodeName}#${this.instance}`;
    this.parts = new RunnerPartitions<T>(this.opts, this.events);
    this.membership = new Membership(
      this.opts.backend,
      runnerMemberPrefix(this.opts.group, this.opts.topic),
      this.opts.nodeName,
    );
    this.handoverPollMs = Math.max(20, Math.min(100, this.opts.pollIntervalMs, this.opts.heartbeatMs / 4));
    this.holder = new RunnerHolder(
      this.opts.backend,
      this.opts.clock,
      this.opts.nodeName,
      runnerHolderLeaseName(this.opts.group, this.opts.topic, this.opts.nodeName),
      this.owner,
      this.opts.leaseTtlMs,
    );
    this.beats = new PeriodicTask(
      this.opts.clock,
      this.opts.heartbeatMs,
      () => this.beat(),
      (error) => this.events.emit('error', { error, during: 'heartbeat' }),
    );
  }

  get state(): RunnerState {
    return this.current;
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  on<E extends keyof RunnerEvents>(event: E, fn: (...args: RunnerEvents[E]) => void): () => void {
    return this.events.on(event, fn);
  }

  once<E extends keyof RunnerEvents>(event: E, fn: (...args: RunnerEvents[E]) => void): () => void {
    return this.events.once(event, fn);
  }

  assigned(): number[] {
    return this.parts.assigned();
  }

  stats(): RunnerStats {
    return {
      ...this.parts.counters,
      handled: this.parts.handled(),
      state: this.current,
      nodeName: this.opts.nodeName,
      assigned: this.assigned(),
      retrying: this.parts.retrying(),
    };
  }

  start(): Promise<void> {
    if (this.current !== 'idle') {
      return Promise.reject(
        new SluiceError('INVALID_STATE', `The runner is ${this.current}; start() can be called once`),
      );
    }
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { backend, topic, partitions, signal, fixed } = this.opts;
    if (signal?.aborted) {
      this.setState('stopped');
      return;
    }
    this.setState('starting');
    try {
      const info =
        partitions === undefined
          ? await backend.topicInfo(topic)
          : await backend.ensureTopic(topic, { partitions });
      if (info === undefined) {
        throw new SluiceError(
          'NOT_FOUND',
          `Topic "${topic}" does not exist (give \`partitions\` to create it)`,
          {
            context: { topic },
          },
        );
      }
      this.partitionCount = info.partitions;
      signal?.addEventListener('abort', this.onAbort, { once: true });
      this.parts.io = runnerIo(this.opts, this.events);
      const poller = this.parts.io.poller;
      this.poller = poller;
      this.unwatch = backend.watch?.(topic, (p, events) => poller.notify(p, events));
      if (fixed !== undefined) {
        const mine = fixedPartitions(this.partitionCount, fixed.index, fixed.total);
        const offsets = await backend.committedMany(this.opts.group, topic, mine);
        mine.forEach((p, i) => {
          this.parts.start(p, undefined, offsets[i] ?? 0);
        });
        this.setState('running');
        return;
      }
      this.coordinator = new GroupCoordinator({
        ...this.opts,
        owner: this.owner,
        partitionCount: this.partitionCount,
      });
      this.setState('running');
      await this.beats.run();
      await this.runTick(true);
    } catch (e) {
      void this.beats.stop();
      this.poller?.close();
      this.unwatch?.();
      signal?.removeEventListener('abort', this.onAbort);
      this.setState('failed');
      throw e;
    }
  }

  stop(): Promise<void> {
    if (this.stopping === undefined) this.stopping = this.doStop();
    return this.stopping;
  }

  close(): Promise<void> {
    return this.stop();
  }

  // ---- internals -----------------------------------------------------------------------------

  private setState(state: RunnerState): void {
    if (this.current === state) return;
    this.current = state;
    this.events.emit('state', state);
  }

  /**
   * Re-evaluates the assignment now instead of at the next heartbeat: heartbeat, renew, release
   * partitions that should move, acquire free ones that are ours. Rebalancing also happens by
   * itself whenever the live membership changes; call this after starting or stopping runners
   * to converge sooner. Resolves when the pass is done and the partitions it gave up are released
   * (after their in-flight batches), so another runner's `rebalance()` can take them at once.
   */
  async rebalance(): Promise<void> {
    if (this.current !== 'running') return;
    if (this.ticking) await this.ticking;
    await this.beats.run();
    await this.runTick(true);
    await Promise.all(this.parts.releasing.values());
  }

  /** Runs one tick (with a coordination step when due or `force`d), then schedules the next (unless stopped). */
  private runTick(force = false): Promise<void> {
    if (this.timer !== undefined) {
      this.opts.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = (async () => {
      let nextAt = this.opts.clock.now() + this.opts.heartbeatMs;
      try {
        nextAt = Math.min(nextAt, await this.tick(force));
      } catch (e) {
        this.events.emit('error', { error: e, during: 'tick' });
      }
      this.ticking = undefined;
      if (this.current === 'running') {
        const delay = Math.max(10, nextAt - this.opts.clock.now());
        this.timer = this.opts.clock.setTimeout(() => {
          this.timer = undefined;
          void this.runTick();
        }, delay);
      }
    })();
    this.ticking = run;
    return run;
  }

  /**
   * The assignment pass: a coordination step when due (see {@link GroupCoordinator}), then
   * release what should move and acquire what is ours and free. Partitions still held by the
   * runner handing them over are tried again after `handoverPollMs` (without a new step), then
   * twice as long each time nothing came free, up to a quarter heartbeat: runners waiting for
   * many partitions flood the backend less with acquisitions bound to fail, and a failover is
   * not delayed by more than that.
   * Returns when the next tick should run at the latest.
   */
  private async tick(force: boolean): Promise<number> {
    const { clock } = this.opts;
    if (this.current !== 'running') return clock.now() + this.opts.heartbeatMs;
    if (force || this.view === undefined || clock.now() >= this.stepDueAt) {
      const view = await this.coordinator!.step();
      this.stepDueAt = view.nextAt;
      const before = this.view;
      this.view = view;
      if (
        before === undefined ||
        !sameList(before.members, view.members) ||
        !sameList(before.target, view.target)
      ) {
        this.parts.counters.rebalances++;
        this.events.emit('rebalance', {
          members: view.members,
          assigned: [...view.target],
          previous: before?.target ?? [],
        });
      }
    }
    let nextAt = this.stepDueAt;
    if (this.current !== 'running') return nextAt;
    const want = new Set(this.view.target);
    for (const w of [...this.parts.workers.values()]) {
      if (!want.has(w.partition) && w.state === 'running') this.parts.release(w, 'rebalance');
    }
    await this.parts.releaseOrphans();
    const free = this.view.target.filter(
      (p) => !this.parts.workers.has(p) && !this.parts.releasing.has(p) && !this.parts.orphaned(p),
    );
    const before = this.parts.workers.size;
    if (free.length > 0) await this.acquire(free);
    if (this.view.target.some((p) => !this.parts.workers.has(p))) {
      // A hand-over under way: look again soon, later while nothing comes free.
      const progressed = this.parts.workers.size > before || this.handoverWaitMs === 0;
      this.handoverWaitMs = progressed
        ? this.handoverPollMs
        : Math.min(this.handoverWaitMs * 2, Math.max(this.handoverPollMs, this.opts.heartbeatMs / 4));
      nextAt = Math.min(nextAt, clock.now() + this.handoverWaitMs);
    } else {
      this.handoverWaitMs = 0;
    }
    return nextAt;
  }

  /**
   * Acquires `partitions` bound to the runner's holder lease (taken first when not held) in two
   * backend calls and starts their workers. Nothing comes back when the holder lease turned out
   * not to be held; the next heartbeat finds it lost and it is taken again.
   */
  private async acquire(partitions: readonly number[]): Promise<void> {
    const { backend, group, topic, leaseTtlMs } = this.opts;
    const holder = await this.holder.ensure((error) =>
      this.events.emit('error', { error, during: 'acquire' }),
    );
    if (holder === undefined) return;
    const acquired = await acquirePartitions(
      backend,
      group,
      topic,
      partitions,
      holder,
      leaseTtlMs,
      () => `${this.owner}#${++this.epoch}`,
      () => this.current === 'running',
    );
    for (const a of acquired) this.parts.start(a.partition, a.lease, a.offset);
  }

  /** Heartbeat, then the holder lease's renewal, which keeps every partition lease (see {@link renewHolder}). */
  private async beat(): Promise<void> {
    const { backend, group, topic } = this.opts;
    await this.membership.heartbeat({
      nodeName: this.opts.nodeName,
      instance: this.instance,
      group,
      topic,
      assigned: this.assigned(),
    });
    await renewHolder(this.holder, backend, this.parts.workers.values(), this.opts.leaseTtlMs, (w) =>
      this.parts.lost(w as PartitionWorker<unknown>, 'lease_lost'),
    );
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => {});
    if (this.current === 'idle' || this.current === 'failed' || this.current === 'stopped') {
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    await this.ticking;
    const { clock } = this.opts;
    try {
      await this.parts.releaseAll(this.opts.shutdownTimeoutMs);
    } finally {
      if (this.timer !== undefined) clock.clearTimeout(this.timer);
      this.timer = undefined;
      await this.ticking;
      if (this.timer !== undefined) clock.clearTimeout(this.timer);
      this.timer = undefined;
      await this.beats.stop();
      await this.parts.io?.commits.close();
      this.poller?.close();
      this.unwatch?.();
      if (this.opts.fixed === undefined) {
        try {
          await this.holder.release();
          await this.coordinator?.resign();
          await this.membership.leave();
        } catch (e) {
          this.events.emit('error', { error: e, during: 'leave' });
        }
      }
      this.setState('stopped');
    }
  }
}

/**
 * Consumes a topic with a group of runners that share its partitions through the backend's
 * leases and membership: each runner heartbeats, computes its fair share of the partitions from
 * the live runners, releases what should move, acquires what is free, renews its leases every
 * `heartbeat`, processes each owned partition in offset order and commits after each batch,
 * fenced by the partition's lease. A runner that dies loses its partitions to the survivors
 * within `failureTimeout`; a runner that was paused past its lease TTL is refused (`FENCED`) when
 * it commits and drops the partition. With `fixed: {index, total}` it owns `p % total === index`
 * without leases or failover.
 *
 * @example
 * ```ts
 * const runner = partitionedRunner({
 *   backend, group: 'billing', topic: 'orders', partitions: 16,
 *   handler: async (event, ctx) => charge(event.payload, ctx.idempotencyKey),
 * });
 * runner.on('partition_acquired', ({ partition, offset }) => log.info({ partition, offset }));
 * await runner.start();
 * process.once('SIGTERM', () => runner.stop());
 * ```
 */
export function partitionedRunner<T = unknown>(options: PartitionedRunnerOptions<T>): PartitionedRunner<T> {
  return new PartitionedRunner<T>(options);
}
