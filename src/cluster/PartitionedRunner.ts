import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Lease } from '../backend/Backend.ts';
import type { Timer } from '../core/Clock.ts';
import { SluiceError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { type PartitionLossReason, PartitionWorker, type PartitionWorkerHost } from './PartitionWorker.ts';
import { computeAssignment, fixedPartitions } from './runnerAssignment.ts';
import type { RunnerEvents, RunnerState } from './runnerEvents.ts';
import {
  type PartitionedRunnerOptions,
  type ResolvedRunnerOptions,
  resolveRunnerOptions,
} from './runnerOptions.ts';

/** Counters of a {@link Runner}. */
export interface RunnerStats {
  readonly state: RunnerState;
  readonly nodeName: string;
  /** Partitions currently owned and processed. */
  readonly assigned: readonly number[];
  /** Events handled successfully since start. */
  readonly handled: number;
  /** Commits since start. */
  readonly commits: number;
  readonly acquired: number;
  readonly released: number;
  readonly lost: number;
  readonly rebalances: number;
}

/** A partitioned consumer of a topic; see {@link partitionedRunner}. */
export interface Runner {
  readonly state: RunnerState;
  readonly nodeName: string;
  /** Joins the group and starts processing. Rejects with `NOT_FOUND` when the topic is missing and no `partitions` was given. */
  start(): Promise<void>;
  /** Graceful stop: in-flight batches finish and are committed, leases are released, the runner leaves the group. */
  stop(): Promise<void>;
  /** Same as {@link stop}. */
  close(): Promise<void>;
  /** Partitions owned and being processed now, ascending. */
  assigned(): number[];
  /** Counters. */
  stats(): RunnerStats;
  /** Subscribes to an event; returns an unsubscribe function. */
  on<E extends keyof RunnerEvents>(event: E, fn: (...args: RunnerEvents[E]) => void): () => void;
  /** Subscribes for one emission. */
  once<E extends keyof RunnerEvents>(event: E, fn: (...args: RunnerEvents[E]) => void): () => void;
}

/** Prefix of the membership entries of the runners of `group`/`topic`. */
export function runnerMemberPrefix(group: string, topic: string): string {
  return `sluice-runner/${group}/${topic}/`;
}

/** Name of the lease guarding one partition: `<group>/<topic>/<partition>`. */
export function partitionLeaseName(group: string, topic: string, partition: number): string {
  return `${group}/${topic}/${partition}`;
}

/**
 * Consumes a topic's partitions with a fleet of runners (processes or machines) that share a
 * backend. See {@link partitionedRunner}.
 */
export class PartitionedRunner<T = unknown> implements Runner, PartitionWorkerHost {
  private readonly opts: ResolvedRunnerOptions<T>;
  private readonly events = new TypedEmitter<RunnerEvents>();
  private readonly workers = new Map<number, PartitionWorker<T>>();
  private readonly releasing = new Map<number, Promise<void>>();
  private readonly instance = randomUUID().slice(0, 8);
  /** `<nodeName>#<instance>`: identifies this runner incarnation in lease owners. */
  private readonly owner: string;
  /** Acquisitions so far: each one uses a fresh lease owner `<owner>#<n>`, so it gets a fresh fencing token. */
  private epoch = 0;
  private lastBeatAt = Number.NEGATIVE_INFINITY;
  private readonly memberId: string;
  private readonly leasePrefix: string;
  /** How often a runner waiting for a partition being handed over looks again. */
  private readonly handoverPollMs: number;
  private partitionCount = 0;
  private current: RunnerState = 'idle';
  private timer: Timer | undefined;
  private ticking: Promise<void> | undefined;
  private lastMembers: readonly string[] = [];
  private lastTarget: readonly number[] = [];
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  private readonly onAbort = () => void this.stop();
  private counters = { handled: 0, commits: 0, acquired: 0, released: 0, lost: 0, rebalances: 0 };

  constructor(options: PartitionedRunnerOptions<T>) {
    this.opts = resolveRunnerOptions(options, `${hostname()}-${process.pid}`);
    this.owner = `${this.opts.nodeName}#${this.instance}`;
    this.memberId = `${runnerMemberPrefix(this.opts.group, this.opts.topic)}${this.opts.nodeName}`;
    this.leasePrefix = `${this.opts.group}/${this.opts.topic}/`;
    this.handoverPollMs = Math.max(20, Math.min(this.opts.pollIntervalMs, this.opts.heartbeatMs / 4));
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
    return [...this.workers.values()]
      .filter((w) => w.state === 'running')
      .map((w) => w.partition)
      .sort((a, b) => a - b);
  }

  stats(): RunnerStats {
    let handled = this.counters.handled;
    for (const w of this.workers.values()) handled += w.handled;
    return {
      ...this.counters,
      handled,
      state: this.current,
      nodeName: this.opts.nodeName,
      assigned: this.assigned(),
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
      this.unwatch = backend.watch?.(topic, (p) => this.workers.get(p)?.wake());
      if (fixed !== undefined) {
        for (const p of fixedPartitions(this.partitionCount, fixed.index, fixed.total)) {
          const offset = await backend.committed(this.opts.group, topic, p);
          this.startWorker(p, undefined, offset);
        }
        this.setState('running');
        return;
      }
      this.setState('running');
      await this.runTick();
    } catch (e) {
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

  // ---- PartitionWorkerHost -------------------------------------------------------------------

  /** @internal */
  committed(worker: PartitionWorker<unknown>, offset: number, count: number): void {
    this.counters.commits++;
    this.events.emit('committed', {
      partition: worker.partition,
      offset,
      count,
      fencingToken: worker.fencingToken,
    });
  }

  /** @internal */
  lost(worker: PartitionWorker<unknown>, reason: PartitionLossReason, error?: unknown): void {
    if (worker.state === 'lost') return;
    worker.lose();
    this.counters.lost++;
    this.counters.handled += worker.handled;
    worker.handled = 0;
    if (this.workers.get(worker.partition) === worker) this.workers.delete(worker.partition);
    if (!this.releasing.has(worker.partition)) {
      // Not acquired again until the lost worker's in-flight handler has returned.
      this.releasing.set(
        worker.partition,
        worker.done.then(() => {
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

  /** @internal */
  error(worker: PartitionWorker<unknown>, during: string, error: unknown): void {
    this.events.emit('error', { error, during, partition: worker.partition });
  }

  // ---- internals -----------------------------------------------------------------------------

  private setState(state: RunnerState): void {
    if (this.current === state) return;
    this.current = state;
    this.events.emit('state', state);
  }

  private startWorker(partition: number, lease: Lease | undefined, offset: number): void {
    const worker = new PartitionWorker<T>(partition, lease, offset, this.opts, this);
    this.workers.set(partition, worker);
    this.counters.acquired++;
    this.events.emit('partition_acquired', { partition, fencingToken: worker.fencingToken, offset });
  }

  /**
   * Re-evaluates the assignment now instead of at the next heartbeat: heartbeat, renew, release
   * partitions that should move, acquire free ones that are ours. Rebalancing also happens by
   * itself whenever the live membership changes; call this after starting or stopping runners
   * to converge sooner. Resolves when the pass is done.
   */
  async rebalance(): Promise<void> {
    if (this.current !== 'running') return;
    if (this.ticking) await this.ticking;
    await this.runTick();
  }

  /** Runs one tick, then schedules the next (unless stopped). */
  private runTick(): Promise<void> {
    if (this.timer !== undefined) {
      this.opts.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = (async () => {
      let nextAt = this.opts.clock.now() + this.opts.heartbeatMs;
      try {
        nextAt = Math.min(nextAt, await this.tick());
      } catch (e) {
        this.events.emit('error', { error: e, during: 'tick' });
      }
      this.ticking = undefined;
      if (this.current === 'running' || this.current === 'stopping') {
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
   * Heartbeat, lease renewal, then (while running) the assignment: release what should move,
   * acquire what is ours and free. Returns when the next tick should run at the latest.
   */
  private async tick(): Promise<number> {
    const { backend, clock, failureTimeoutMs, leaseTtlMs, group, topic, heartbeatMs } = this.opts;
    // Extra ticks (to pick up a partition being handed over) skip the heartbeat when it is recent.
    if (clock.now() - this.lastBeatAt >= heartbeatMs * 0.75) await this.beat();
    let nextAt = this.lastBeatAt + heartbeatMs;
    if (this.current !== 'running') return nextAt;

    const prefix = runnerMemberPrefix(group, topic);
    const live = (await backend.membership.members(failureTimeoutMs)).filter(
      (m) => m.node.startsWith(prefix) && m.meta.group === group && m.meta.topic === topic,
    );
    const owners = new Map<string, string>();
    for (const m of live) {
      const name = m.node.slice(prefix.length);
      owners.set(`${name}#${String(m.meta.instance)}`, name);
      if (m.node !== this.memberId) nextAt = Math.min(nextAt, m.lastHeartbeat + failureTimeoutMs + 1);
    }
    const members = live.map((m) => m.node.slice(prefix.length));
    if (!members.includes(this.opts.nodeName)) return nextAt; // our heartbeat is not visible yet

    const held = await backend.leases.list(this.leasePrefix);
    const holders = new Array<string | undefined>(this.partitionCount);
    const leaseOf = new Map<number, Lease>();
    for (const lease of held) {
      const p = this.partitionOfLease(lease.name);
      if (p === undefined) continue;
      leaseOf.set(p, lease);
      holders[p] = owners.get(lease.owner.slice(0, lease.owner.lastIndexOf('#')));
    }
    if (this.current !== 'running') return nextAt;
    const target = computeAssignment(
      this.opts.assignment,
      members,
      this.partitionCount,
      holders,
    ).partitionsOf(this.opts.nodeName);
    if (!sameList(members, this.lastMembers) || !sameList(target, this.lastTarget)) {
      const previous = this.lastTarget;
      this.lastMembers = members;
      this.lastTarget = [...target];
      this.counters.rebalances++;
      this.events.emit('rebalance', { members, assigned: [...target], previous });
    }
    const want = new Set(target);
    for (const w of [...this.workers.values()]) {
      if (!want.has(w.partition) && w.state === 'running') this.release(w, 'rebalance');
    }
    for (const p of target) {
      if (this.current !== 'running') break;
      if (this.workers.has(p) || this.releasing.has(p)) continue;
      const other = leaseOf.get(p);
      if (other !== undefined && other.expiresAt > clock.now()) {
        // A live holder hands it over after its in-flight batch: look again soon. A dead one's
        // lease expires at `expiresAt`.
        const handover =
          holders[p] !== undefined ? clock.now() + this.handoverPollMs : Number.POSITIVE_INFINITY;
        nextAt = Math.min(nextAt, other.expiresAt + 1, handover);
        continue;
      }
      const lease = await backend.leases.acquire(
        partitionLeaseName(group, topic, p),
        `${this.owner}#${++this.epoch}`,
        leaseTtlMs,
      );
      if (lease === null) continue;
      if (this.current !== 'running') {
        await backend.leases.release(lease);
        break;
      }
      const offset = await backend.committed(group, topic, p);
      this.startWorker(p, lease, offset);
    }
    return nextAt;
  }

  /** Heartbeat, then renewal of every held lease; a lease found lost drops its partition. */
  private async beat(): Promise<void> {
    const { backend, clock, leaseTtlMs, group, topic } = this.opts;
    const at = clock.now();
    await backend.membership.heartbeat(this.memberId, {
      nodeName: this.opts.nodeName,
      instance: this.instance,
      group,
      topic,
      assigned: this.assigned(),
    });
    this.lastBeatAt = at;
    await Promise.all(
      [...this.workers.values()].map(async (w) => {
        if (w.lease === undefined || (w.state !== 'running' && w.state !== 'draining')) return;
        const renewed = await backend.leases.renew(w.lease, leaseTtlMs);
        if (renewed !== null) {
          w.lease = renewed;
          return;
        }
        // A commit already on its way decides: it is refused (`fenced`) or it went through first.
        const inFlight = w.commitInFlight;
        if (inFlight === undefined) this.lost(w as PartitionWorker<unknown>, 'lease_lost');
        else void inFlight.then(() => this.lost(w as PartitionWorker<unknown>, 'lease_lost'));
      }),
    );
  }

  private partitionOfLease(name: string): number | undefined {
    if (!name.startsWith(this.leasePrefix)) return undefined;
    const rest = name.slice(this.leasePrefix.length);
    if (!/^(0|[1-9]\d*)$/.test(rest)) return undefined;
    const p = Number(rest);
    return p < this.partitionCount ? p : undefined;
  }

  /** Drains a worker (its in-flight batch is committed), then releases its lease. */
  private release(worker: PartitionWorker<T>, reason: 'rebalance' | 'stop'): Promise<void> {
    const existing = this.releasing.get(worker.partition);
    if (existing !== undefined) return existing;
    worker.drain();
    const done = worker.done.then(async () => {
      try {
        if (worker.state !== 'lost' && worker.lease !== undefined) {
          try {
            await this.opts.backend.leases.release(worker.lease);
          } catch (e) {
            this.events.emit('error', { error: e, during: 'release', partition: worker.partition });
          }
        }
        if (worker.state !== 'lost') {
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
    const drains = [...this.workers.values()].map((w) => this.release(w, 'stop'));
    const all = Promise.all([...drains, ...this.releasing.values()]);
    const force = clock.setTimeout(() => {
      for (const w of this.workers.values()) w.forceStop();
    }, this.opts.shutdownTimeoutMs);
    try {
      await all;
    } finally {
      clock.clearTimeout(force);
      if (this.timer !== undefined) clock.clearTimeout(this.timer);
      this.timer = undefined;
      await this.ticking;
      if (this.timer !== undefined) clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.unwatch?.();
      if (this.opts.fixed === undefined) {
        try {
          await this.opts.backend.membership.leave(this.memberId);
        } catch (e) {
          this.events.emit('error', { error: e, during: 'leave' });
        }
      }
      this.setState('stopped');
    }
  }
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
