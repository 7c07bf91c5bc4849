// DistributedSupervisor: a supervisor whose children run across cluster nodes; the public class and its round loop.
import type { Lease } from '../../backend/Backend.ts';
import { SluiceError } from '../../core/errors.ts';
import { TypedEmitter } from '../../core/events.ts';
import type { Cluster } from './Cluster.ts';
import type { DsupChildState, DsupModel } from './DsupModel.ts';
import { DsupLeader, owner, placementTtl } from './dsupLeader.ts';
import { LocalChildren, lostReasonOf } from './dsupLocal.ts';
import { ControlLog } from './dsupLog.ts';
import {
  type DistributedSupervisorOptions,
  normalizeDistributedChild,
  type ResolvedDsupOptions,
  resolveDsupOptions,
} from './dsupOptions.ts';
import type { LiveNode } from './dsupPlanner.ts';
import { Rounds } from './dsupRounds.ts';
import type {
  DistributedChildSpec,
  DistributedLifecycleEvent,
  DistributedSupervisorState,
  DistributedSupervisorStats,
  DsupRecord,
} from './dsupTypes.ts';
import { childrenInfo, type DistributedChildInfo, liveNodesOf, statsOf } from './dsupView.ts';
import { DsupWaiters, noEligibleNode } from './dsupWaiters.ts';
import { toNodeSelector } from './nodeSelectors.ts';

export type { DistributedChildInfo };

type Events = { lifecycle: [event: DistributedLifecycleEvent] };

/** How long after an expected re-placement a node looks for children placed on it. */
const PLACEMENT_SETTLE_MS = 30;

/** The membership meta key under which a node advertises what it runs of supervisor `name`. */
export const advertisementKey = (name: string): string => `dsup:${name}`;

/**
 * A supervisor whose children run across the nodes of a {@link Cluster}. Start it with the same
 * options on every node. Coordination goes only through the backend:
 *
 * - **Placements are leases**: child `id` runs on the node holding the lease
 *   `dsup/<name>/child/<id>` (owner `<node>#<incarnation>`); the node starts it when it sees its
 *   lease, renews the lease every heartbeat, and stops the child as soon as the lease is lost or
 *   expires. Every child gets the lease's fencing token for fenced writes.
 * - **One leader decides** (holder of the lease `dsup/<name>/leader`): a pure planner turns the
 *   log, the leases and the live nodes (with the behaviors each advertises) into actions — place,
 *   restart per restart type and strategy, count the restart intensity, migrate the children of
 *   failed nodes, re-spread after joins — which the leader carries out.
 * - **The control log** (topic `sluice.dsup.<name>`) records requests, placements, starts, exits
 *   and node failures; every node reads it, so lifecycle events and stats are the same everywhere.
 *
 * @example
 * ```ts
 * const registry = new BehaviorRegistry().register('indexer', indexerBehavior);
 * const cluster = await Cluster.start({ nodeName: 'node-a', backend });
 * const sup = await DistributedSupervisor.start({
 *   cluster, registry, strategy: 'one_for_one', nodeSelector: 'least_loaded', minNodes: 2,
 *   children: [{ id: 'indexer-1', behavior: 'indexer', args: { shard: 1 }, restart: 'permanent' }],
 *   restartIntensity: { maxRestarts: 5, withinMs: 60_000 },
 * });
 * sup.done.catch((e) => console.error(e.code)); // MAX_RESTARTS_EXCEEDED
 * ```
 */
export class DistributedSupervisor {
  readonly name: string;
  /**
   * Resolves when the supervisor stops (`stop()`, auto-shutdown, or this node's `close()`);
   * rejects with `MAX_RESTARTS_EXCEEDED` when its restart intensity was exceeded (state
   * `failed`), as the local `Supervisor`'s `done`.
   */
  readonly done: Promise<void>;
  private readonly opts: ResolvedDsupOptions;
  private readonly cluster: Cluster;
  private readonly events = new TypedEmitter<Events>();
  private readonly childPrefix: string;
  private readonly me: string;
  private readonly leaseTtlMs: number;
  private readonly leader: DsupLeader;
  private readonly local: LocalChildren;
  private readonly waiters: DsupWaiters;
  private readonly log: ControlLog;
  private leases = new Map<string, Lease>();
  private current: DistributedSupervisorState = 'running';
  private readonly rounds: Rounds;
  private closing: Promise<void> | undefined;
  private silent = false;
  private settleDone: (error?: SluiceError) => void = () => {};
  private readonly onAbort = () => void this.close();

  private constructor(opts: ResolvedDsupOptions) {
    this.opts = opts;
    this.cluster = opts.cluster;
    this.name = opts.name;
    this.childPrefix = `dsup/${opts.name}/child/`;
    this.me = owner(this.cluster.nodeName, this.cluster.incarnation);
    this.leaseTtlMs = placementTtl(this.cluster.heartbeatMs, this.cluster.failureTimeoutMs);
    this.log = new ControlLog(
      this.cluster.backend,
      `sluice.dsup.${opts.name}`,
      opts.children,
      (e) => this.emit(e),
      () => this.waiters.notify(),
    );
    const self = this;
    const host = {
      cluster: this.cluster,
      opts,
      registry: opts.registry,
      me: this.me,
      leaseTtlMs: this.leaseTtlMs,
      leaderLeaseName: `dsup/${opts.name}/leader`,
      childPrefix: this.childPrefix,
      get leases() {
        return self.leases;
      },
      model: () => this.model,
      liveNodes: () => this.liveNodes(),
      append: (rec: DsupRecord) => this.append(rec),
      running: () => this.current === 'running',
      spec: (id: string) => this.model.children.get(id)?.spec,
      lostReason: (id: string) => lostReasonOf(this.model.children.get(id)),
      emit: (e: DistributedLifecycleEvent) => this.emit(e),
      kick: () => void this.runTick(),
    };
    this.rounds = new Rounds(
      this.cluster.clock,
      this.cluster.heartbeatMs,
      () => this.tick(),
      () => this.current === 'running',
      (error) => this.emit({ type: 'error', during: 'round', error, at: this.now() }),
      () => this.waiters.notify(),
    );
    this.leader = new DsupLeader(host, toNodeSelector(opts.nodeSelector));
    this.local = new LocalChildren(host);
    this.waiters = new DsupWaiters(this.cluster.clock, (fn) => this.onLifecycleEvent(fn));
    this.done = new Promise<void>((resolve, reject) => {
      this.settleDone = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.done.catch(() => {}); // reported through events and `done`, never as an unhandled rejection
  }

  /**
   * Joins (or creates) the supervisor `name` on this node, advertises its registered behaviors
   * and runs a first round: the leader places children, this node starts the ones placed on it.
   */
  static async start(options: DistributedSupervisorOptions): Promise<DistributedSupervisor> {
    const sup = new DistributedSupervisor(resolveDsupOptions(options));
    const { cluster } = sup;
    cluster.advertise(advertisementKey(sup.name), { behaviors: sup.opts.registry.names() });
    await cluster.refresh();
    await sup.log.open();
    // The history before this node joined updates the model without replaying its events.
    sup.silent = true;
    await sup.log.read();
    sup.silent = false;
    if (options.onLifecycleEvent !== undefined) sup.onLifecycleEvent(options.onLifecycleEvent);
    // The previous life was stopped: begin a new generation.
    if (sup.model.shutdown !== undefined) await sup.log.nextGeneration(sup.now());
    options.signal?.addEventListener('abort', sup.onAbort, { once: true });
    await sup.runTick();
    return sup;
  }

  get state(): DistributedSupervisorState {
    return this.current;
  }

  /** Whether this node currently decides placements. */
  get isLeader(): boolean {
    return this.leader.holds();
  }

  /** Subscribes to lifecycle events (seen on every node); returns an unsubscribe function. */
  onLifecycleEvent(fn: (event: DistributedLifecycleEvent) => void): () => void {
    return this.events.on('lifecycle', fn);
  }

  /**
   * Adds a child and resolves with `{id, node}` once it runs on some node. Refused with
   * `NO_ELIGIBLE_NODE` when no live node of the supervisor has its behavior registered,
   * `ALREADY_EXISTS` for an id in use; `TIMEOUT` after `startTimeout`.
   */
  async startChild(spec: DistributedChildSpec): Promise<{ id: string; node: string }> {
    this.assertRunning('startChild');
    const child = normalizeDistributedChild(spec, 'childSpec');
    const existing = this.model.children.get(child.id);
    if (existing !== undefined && existing.phase.phase !== 'terminated') {
      throw new SluiceError('ALREADY_EXISTS', `Child "${child.id}" already exists`, {
        context: { id: child.id },
      });
    }
    if (!this.liveNodes().some((n) => n.behaviors?.includes(child.behavior) === true)) {
      throw noEligibleNode(child.id, child.behavior);
    }
    const started = this.waiters.waitStarted(child.id, 0, this.opts.startTimeoutMs);
    await this.append({ t: 'add', spec: child, by: this.cluster.nodeName, at: this.now() });
    void this.runTick();
    return started;
  }

  /** Stops a child wherever it runs and does not restart it. `NOT_FOUND` for an unknown child. */
  async terminateChild(id: string): Promise<void> {
    this.assertRunning('terminateChild');
    const c = this.requireChild(id);
    if (c.phase.phase === 'terminated') return;
    await this.append({ t: 'terminate', id, by: this.cluster.nodeName, at: this.now() });
    void this.runTick();
    await this.waiters.waitFor(
      () => this.model.children.get(id)?.phase.phase === 'terminated' && !this.leases.has(id),
      this.opts.startTimeoutMs,
      `child "${id}" to terminate`,
    );
  }

  /**
   * Stops a child (if running; its node records reason `restart_requested`) and starts it again,
   * or starts a terminated child again. Resolves with `{id, node}` once it runs. Not counted by
   * the restart intensity.
   */
  async restartChild(id: string): Promise<{ id: string; node: string }> {
    this.assertRunning('restartChild');
    const c = this.requireChild(id);
    const started = this.waiters.waitStarted(id, c.lastToken, this.opts.startTimeoutMs);
    await this.append({ t: 'restart', id, by: this.cluster.nodeName, at: this.now() });
    void this.runTick();
    return started;
  }

  /** The children with their placement, in start order. */
  whichChildren(): DistributedChildInfo[] {
    return childrenInfo(this.model, this.leases, this.liveIncarnations());
  }

  /** Counters and placement as seen by this node. */
  getStats(): DistributedSupervisorStats {
    return statsOf(this.model, this.leases, this.liveIncarnations(), {
      state: this.current,
      leader: this.isLeader ? this.cluster.nodeName : this.leader.lastLeader,
      local: this.local.ids(),
    });
  }

  /** Runs one round now (heartbeat-independent): read the log, place (leader), start/stop local children. */
  refresh(): Promise<void> {
    return this.runTick();
  }

  /**
   * This node leaves the supervisor: it stops advertising, its children stop gracefully and are
   * handed over to the other nodes (not counted as failures); the leadership is released. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === undefined) this.closing = this.leave();
    return this.closing;
  }

  /**
   * Stops the whole supervisor on every node: each node stops its children (they are not
   * restarted). Resolves when the children of this node have stopped and the placements of the
   * others are gone (or `timeoutMs` passed).
   */
  async stop(timeoutMs = this.cluster.failureTimeoutMs * 2): Promise<void> {
    if (this.current === 'running') {
      await this.append({ t: 'shutdown', reason: 'stop', at: this.now() });
      await this.runTick();
      const { clock, backend } = this.cluster;
      const deadline = this.now() + timeoutMs;
      while ((await backend.leases.list(this.childPrefix)).length > 0 && this.now() < deadline) {
        await clock.sleep(Math.min(this.cluster.heartbeatMs, Math.max(1, deadline - this.now())));
      }
    }
    await this.close();
  }

  // ---- rounds ----------------------------------------------------------------------------------

  private runTick(): Promise<void> {
    return this.rounds.run();
  }

  /** One round. Returns when the next one should run at the latest. */
  private async tick(): Promise<number> {
    if (this.current !== 'running') return Number.POSITIVE_INFINITY;
    // Leases first, then the log: an exit is appended before its lease is released, so a missing
    // lease whose exit is not in the log means the node failed.
    const listed = await this.cluster.backend.leases.list(this.childPrefix);
    this.leases = new Map(listed.map((l) => [l.name.slice(this.childPrefix.length), l]));
    await this.log.read();
    if (this.model.shutdown !== undefined) {
      await this.shutdownLocal();
      return Number.POSITIVE_INFINITY;
    }
    let nextAt = this.now() + this.cluster.heartbeatMs;
    // A placement that stops being renewed is replaced right after it expires: look again then.
    for (const l of listed)
      if (l.owner !== this.me) nextAt = Math.min(nextAt, l.expiresAt + PLACEMENT_SETTLE_MS);
    nextAt = Math.min(nextAt, await this.leader.round());
    if (this.current === 'running') await this.local.tend();
    // A child that should run but has no placement is about to be placed: look again soon.
    if (this.model.activeIds().some((id) => !this.leases.has(id))) {
      nextAt = Math.min(nextAt, this.now() + Math.max(20, this.cluster.heartbeatMs / 5));
    }
    return nextAt;
  }

  private async shutdownLocal(): Promise<void> {
    await this.local.stopAll('shutdown');
    await this.leader.release();
    this.finish(this.model.shutdown === 'max_restarts' ? 'failed' : 'stopped');
  }

  private async leave(): Promise<void> {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.current === 'running') this.current = 'leaving';
    await this.rounds.stop();
    this.cluster.advertise(advertisementKey(this.name), undefined);
    await this.cluster.refresh().catch(() => {});
    await this.local.stopAll('node_leaving');
    await this.leader.release();
    if (this.current === 'leaving') this.finish('stopped');
    this.waiters.notify();
  }

  /** Enters `stopped` or `failed` and settles `done`. */
  private finish(state: 'stopped' | 'failed'): void {
    this.current = state;
    if (state === 'stopped') {
      this.settleDone();
      return;
    }
    const { maxRestarts, withinMs } = this.opts;
    this.settleDone(
      new SluiceError(
        'MAX_RESTARTS_EXCEEDED',
        `Distributed supervisor "${this.name}" exceeded its restart intensity (${maxRestarts} restarts within ${withinMs} ms)`,
        { context: { supervisor: this.name, maxRestarts, withinMs } },
      ),
    );
  }

  // ---- helpers --------------------------------------------------------------------------------

  private get model(): DsupModel {
    return this.log.model;
  }

  private now(): number {
    return this.cluster.clock.now();
  }

  private liveIncarnations(): Map<string, string> {
    return new Map(this.cluster.members().map((m) => [m.node, m.incarnation]));
  }

  private liveNodes(): LiveNode[] {
    return liveNodesOf(this.cluster.members(), advertisementKey(this.name));
  }

  private append(rec: DsupRecord): Promise<void> {
    return this.log.append(rec);
  }

  private emit(event: DistributedLifecycleEvent): void {
    if (!this.silent) this.events.emit('lifecycle', event);
  }

  private assertRunning(op: string): void {
    if (this.current !== 'running') {
      throw new SluiceError(
        'INVALID_STATE',
        `${op}: the supervisor "${this.name}" is ${this.current} on this node`,
      );
    }
  }

  private requireChild(id: string): DsupChildState {
    const c = this.model.children.get(id);
    if (c === undefined)
      throw new SluiceError('NOT_FOUND', `No child "${id}" in supervisor "${this.name}"`, {
        context: { id },
      });
    return c;
  }
}
