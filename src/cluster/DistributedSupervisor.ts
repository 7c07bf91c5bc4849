import type { Lease } from '../backend/Backend.ts';
import type { Timer } from '../core/Clock.ts';
import { SluiceError, serializeError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { RestartWindow } from '../supervision/RestartWindow.ts';
import type { ChildHandle } from '../supervision/types.ts';
import type { Cluster } from './Cluster.ts';
import { type DsupChildState, DsupModel } from './DsupModel.ts';
import {
  type DistributedSupervisorOptions,
  normalizeDistributedChild,
  type ResolvedDsupOptions,
  resolveDsupOptions,
} from './dsupOptions.ts';
import type {
  DistributedChildSpec,
  DistributedLifecycleEvent,
  DistributedSupervisorState,
  DistributedSupervisorStats,
  DsupRecord,
  PlacementReason,
  StopReason,
} from './dsupTypes.ts';
import { type NodeLoad, type NodeSelectorFn, toNodeSelector } from './nodeSelectors.ts';

/** A child running on this node. */
interface LocalChild {
  readonly id: string;
  readonly token: number;
  lease: Lease;
  readonly handle: ChildHandle;
  readonly abort: AbortController;
  readonly shutdownTimeoutMs: number;
  stopping: boolean;
  expiry: Timer | undefined;
}

/** One row of {@link DistributedSupervisor.whichChildren}. */
export interface DistributedChildInfo {
  readonly id: string;
  readonly behavior: string;
  readonly restart: string;
  /** `running` (placed on a live node), `pending` (waiting for a placement) or `terminated`. */
  readonly status: 'running' | 'pending' | 'terminated';
  readonly node: string | undefined;
  readonly fencingToken: number | undefined;
  readonly restarts: number;
}

type Events = { lifecycle: [event: DistributedLifecycleEvent] };

/** How long after an expected re-placement a node looks for children placed on it. */
const PLACEMENT_SETTLE_MS = 30;

const owner = (node: string, incarnation: string) => `${node}#${incarnation}`;
const parseOwner = (o: string): { node: string; incarnation: string } => {
  const i = o.lastIndexOf('#');
  return i < 0 ? { node: o, incarnation: '' } : { node: o.slice(0, i), incarnation: o.slice(i + 1) };
};

/**
 * A supervisor whose children run across the nodes of a {@link Cluster}. Start it with the same
 * options on every node. Coordination goes only through the backend:
 *
 * - **Placements are leases**: child `id` runs on the node holding the lease
 *   `dsup/<name>/child/<id>` (owner `<node>#<incarnation>`); the node starts it when it sees its
 *   lease, renews the lease every heartbeat, and stops the child as soon as the lease is lost or
 *   expires (a node that comes back after being declared dead stops its stale children). Every
 *   child gets the lease's fencing token for fenced writes.
 * - **One leader decides** (holder of the lease `dsup/<name>/leader`): it places children with
 *   the `nodeSelector`, restarts them per restart type and strategy, counts the restart intensity
 *   and migrates the children of failed nodes. A placement is made by acquiring the child's lease
 *   for the target node, which only succeeds once the previous placement's lease is gone: a child
 *   is restarted exactly once and never runs twice under valid leases.
 * - **The control log** (topic `sluice.dsup.<name>`) records requests (`startChild`,
 *   `terminateChild`, `restartChild`), placements, starts, exits and node failures; every node
 *   reads it, so lifecycle events and stats are the same everywhere and a new leader carries on
 *   where the previous one stopped.
 *
 * @example
 * ```ts
 * const registry = new BehaviorRegistry().register('indexer', indexerBehavior);
 * const cluster = await Cluster.start({ nodeName: 'node-a', backend });
 * const sup = await DistributedSupervisor.start({
 *   cluster, registry, strategy: 'one_for_one', nodeSelector: 'least_loaded',
 *   children: [{ id: 'indexer-1', behavior: 'indexer', args: { shard: 1 }, restart: 'permanent' }],
 *   restartIntensity: { maxRestarts: 5, withinMs: 60_000 },
 * });
 * sup.onLifecycleEvent((e) => console.log(e.type, e));
 * ```
 */
export class DistributedSupervisor {
  readonly name: string;
  private readonly opts: ResolvedDsupOptions;
  private readonly cluster: Cluster;
  private readonly events = new TypedEmitter<Events>();
  private readonly topic: string;
  private readonly childPrefix: string;
  private readonly leaderLeaseName: string;
  private readonly me: string;
  private readonly leaseTtlMs: number;
  private readonly select: NodeSelectorFn;
  private model: DsupModel;
  private generation = 0;
  private logOffset = 0;
  private leases = new Map<string, Lease>();
  private readonly local = new Map<string, LocalChild>();
  /** `<id>:<token>` of every placement started on this node. */
  private readonly startedHere = new Set<string>();
  private leaderLease: Lease | undefined;
  private window: RestartWindow;
  private current: DistributedSupervisorState = 'running';
  private timer: Timer | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => void this.close();

  private constructor(opts: ResolvedDsupOptions) {
    this.opts = opts;
    this.cluster = opts.cluster;
    this.name = opts.name;
    this.topic = `sluice.dsup.${opts.name}`;
    this.childPrefix = `dsup/${opts.name}/child/`;
    this.leaderLeaseName = `dsup/${opts.name}/leader`;
    this.me = owner(this.cluster.nodeName, this.cluster.incarnation);
    const { heartbeatMs, failureTimeoutMs } = this.cluster;
    // Children must be running elsewhere within failureTimeout of their node's last renewal: the
    // lease expires one heartbeat early, the new node starts the child on its next round.
    this.leaseTtlMs = Math.round(
      failureTimeoutMs - heartbeatMs >= heartbeatMs ? failureTimeoutMs - heartbeatMs : failureTimeoutMs,
    );
    this.select = toNodeSelector(opts.nodeSelector);
    this.model = new DsupModel(opts.children);
    this.window = new RestartWindow(opts.maxRestarts, opts.withinMs);
  }

  /**
   * Joins (or creates) the supervisor `name` on this node and runs a first round: the leader
   * places children, this node starts the ones placed on it.
   */
  static async start(options: DistributedSupervisorOptions): Promise<DistributedSupervisor> {
    const sup = new DistributedSupervisor(resolveDsupOptions(options));
    await sup.cluster.backend.ensureTopic(sup.topic, { partitions: 1 });
    // The history before this node joined updates the model without replaying its events.
    sup.silent = true;
    await sup.readLog();
    sup.silent = false;
    if (options.onLifecycleEvent !== undefined) sup.onLifecycleEvent(options.onLifecycleEvent);
    if (sup.model.shutdown !== undefined) {
      // The previous life of this supervisor was stopped: begin a new generation (the id makes
      // concurrent starters append it once).
      const n = sup.generation + 1;
      await sup.cluster.backend.append(sup.topic, [
        {
          id: `generation-${n}`,
          partition: 0,
          payload: { t: 'generation', n, at: sup.now() } satisfies DsupRecord,
        },
      ]);
      await sup.readLog();
    }
    options.signal?.addEventListener('abort', sup.onAbort, { once: true });
    await sup.runTick();
    return sup;
  }

  get state(): DistributedSupervisorState {
    return this.current;
  }

  /** Whether this node currently decides placements. */
  get isLeader(): boolean {
    return this.leaderLease !== undefined && this.now() < this.leaderLease.expiresAt;
  }

  /** Subscribes to lifecycle events (seen on every node); returns an unsubscribe function. */
  onLifecycleEvent(fn: (event: DistributedLifecycleEvent) => void): () => void {
    return this.events.on('lifecycle', fn);
  }

  /**
   * Adds a child and resolves once it runs on some node. The behavior must be registered here
   * (`NOT_FOUND` otherwise); an id in use gives `ALREADY_EXISTS`; `TIMEOUT` after `startTimeout`.
   */
  async startChild(spec: DistributedChildSpec): Promise<{ id: string; node: string }> {
    this.assertRunning('startChild');
    const child = normalizeDistributedChild(spec, 'childSpec');
    this.opts.registry.get(child.behavior);
    const existing = this.model.children.get(child.id);
    if (existing !== undefined && !existing.terminated) {
      throw new SluiceError('ALREADY_EXISTS', `Child "${child.id}" already exists`, {
        context: { id: child.id },
      });
    }
    const started = this.waitStarted(child.id, 0);
    await this.append({ t: 'add', spec: child, by: this.cluster.nodeName, at: this.now() });
    this.kick();
    return started;
  }

  /** Stops a child wherever it runs and does not restart it. `NOT_FOUND` for an unknown child. */
  async terminateChild(id: string): Promise<void> {
    this.assertRunning('terminateChild');
    const c = this.requireChild(id);
    if (c.terminated) return;
    await this.append({ t: 'terminate', id, by: this.cluster.nodeName, at: this.now() });
    this.kick();
    await this.waitFor(
      () => this.model.children.get(id)?.terminated === true && !this.leases.has(id),
      this.opts.startTimeoutMs,
      `child "${id}" to terminate`,
    );
  }

  /**
   * Stops a child (if running) and starts it again, or starts a terminated child again. Resolves
   * once it runs. Not counted by the restart intensity.
   */
  async restartChild(id: string): Promise<{ id: string; node: string }> {
    this.assertRunning('restartChild');
    const c = this.requireChild(id);
    const started = this.waitStarted(id, c.token);
    await this.append({ t: 'restart', id, by: this.cluster.nodeName, at: this.now() });
    this.kick();
    return started;
  }

  /** The children with their placement, in start order. */
  whichChildren(): DistributedChildInfo[] {
    const live = this.liveIncarnations();
    return this.model.order.map((id) => {
      const c = this.model.children.get(id)!;
      const lease = this.leases.get(id);
      const running =
        lease !== undefined && live.get(parseOwner(lease.owner).node) === parseOwner(lease.owner).incarnation;
      return {
        id,
        behavior: c.spec.behavior,
        restart: c.spec.restart,
        status: c.terminated ? 'terminated' : running ? 'running' : 'pending',
        node: lease === undefined ? undefined : parseOwner(lease.owner).node,
        fencingToken: lease?.fencingToken,
        restarts: c.restarts,
      };
    });
  }

  /** Counters and placement as seen by this node. */
  getStats(): DistributedSupervisorStats {
    const live = this.liveIncarnations();
    const childrenByNode: Record<string, string[]> = {};
    for (const node of live.keys()) childrenByNode[node] = [];
    for (const [id, lease] of this.leases) {
      const o = parseOwner(lease.owner);
      if (live.get(o.node) === o.incarnation) childrenByNode[o.node]!.push(id);
    }
    let leader: string | undefined;
    if (this.isLeader) leader = this.cluster.nodeName;
    else if (this.lastLeader !== undefined) leader = this.lastLeader;
    return {
      state: this.current,
      leader,
      nodes: [...live.keys()].sort(),
      children: this.model.activeIds().length,
      childrenByNode,
      local: [...this.local.keys()].sort(),
      totalRestarts: this.model.totalRestarts,
      nodeFailureRestarts: this.model.nodeFailureRestarts,
      migrations: this.model.migrations,
      nodeFailures: this.model.nodeFailures,
    };
  }

  /** Runs one round now (heartbeat-independent): read the log, place (leader), start/stop local children. */
  refresh(): Promise<void> {
    return this.runTick();
  }

  /**
   * This node leaves the supervisor: its children stop gracefully and are handed over to the
   * other nodes (not counted as failures); the leadership is released. Idempotent.
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

  private lastLeader: string | undefined;

  private kick(): void {
    void this.runTick();
  }

  private runTick(): Promise<void> {
    if (this.ticking !== undefined) {
      this.again = true;
      return this.ticking;
    }
    if (this.timer !== undefined) this.cluster.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.ticking = (async () => {
      let nextAt = this.now() + this.cluster.heartbeatMs;
      do {
        this.again = false;
        try {
          nextAt = Math.min(this.now() + this.cluster.heartbeatMs, await this.tick());
        } catch (error) {
          this.emit({ type: 'error', during: 'round', error, at: this.now() });
        }
      } while (this.again && this.current === 'running');
      this.ticking = undefined;
      this.notify();
      if (this.current === 'running') {
        this.timer = this.cluster.clock.setTimeout(
          () => {
            this.timer = undefined;
            void this.runTick();
          },
          Math.max(Math.min(50, this.cluster.heartbeatMs / 4), nextAt - this.now()),
        );
      }
    })();
    return this.ticking;
  }

  /** One round. Returns when the next one should run at the latest. */
  private async tick(): Promise<number> {
    if (this.current !== 'running') return Number.POSITIVE_INFINITY;
    const { backend } = this.cluster;
    // Leases first, then the log: an exit is appended before its lease is released, so a missing
    // lease whose exit is not in the log means the node failed.
    const listed = await backend.leases.list(this.childPrefix);
    this.leases = new Map(listed.map((l) => [l.name.slice(this.childPrefix.length), l]));
    await this.readLog();
    if (this.model.shutdown !== undefined) {
      await this.shutdownLocal();
      return Number.POSITIVE_INFINITY;
    }
    let nextAt = this.now() + this.cluster.heartbeatMs;
    // A placement that stops being renewed is replaced right after it expires: look again then
    // (healthy owners renew every heartbeat, so this adds no rounds in the normal case).
    for (const l of listed)
      if (l.owner !== this.me) nextAt = Math.min(nextAt, l.expiresAt + PLACEMENT_SETTLE_MS);
    nextAt = Math.min(nextAt, await this.lead());
    await this.tend();
    // A child that should run but has no placement is about to be placed (after a failure, a
    // crash, a request): look again soon so the node it lands on starts it without waiting a
    // whole heartbeat.
    if (this.model.activeIds().some((id) => !this.leases.has(id))) {
      nextAt = Math.min(nextAt, this.now() + Math.max(20, this.cluster.heartbeatMs / 5));
    }
    return nextAt;
  }

  /** Reads the control log from where this node stopped, applying records and emitting events (one reader at a time). */
  private readLog(): Promise<void> {
    const run = this.reading.then(() => this.readLogNow());
    this.reading = run.catch(() => {});
    return run;
  }

  private reading: Promise<void> = Promise.resolve();

  private async readLogNow(): Promise<void> {
    const { backend } = this.cluster;
    for (;;) {
      const events = await backend.read(this.topic, 0, this.logOffset, 500);
      if (events.length === 0) return;
      for (const e of events) {
        this.logOffset = e.offset + 1;
        const rec = e.payload as DsupRecord;
        if (rec.t === 'generation') {
          if (rec.n === this.generation + 1) {
            this.generation = rec.n;
            this.model = new DsupModel(this.opts.children);
            this.window = new RestartWindow(this.opts.maxRestarts, this.opts.withinMs);
          }
          continue;
        }
        for (const ev of this.model.apply(rec)) this.emit(ev);
      }
      this.notify();
    }
  }

  // ---- this node's children -------------------------------------------------------------------

  /** Starts the children placed on this node, renews their leases, stops the ones it lost. */
  private async tend(): Promise<void> {
    const { backend } = this.cluster;
    for (const [id, lease] of this.leases) {
      if (lease.owner !== this.me || this.local.has(id) || this.current !== 'running') continue;
      // A placement is started once: the listing may predate the exit of that very instance.
      const key = `${id}:${lease.fencingToken}`;
      if (this.startedHere.has(key)) continue;
      this.startedHere.add(key);
      await this.startLocal(id, lease);
    }
    await Promise.all(
      [...this.local.values()].map(async (c) => {
        if (c.stopping) return;
        const seen = this.leases.get(c.id);
        if (seen === undefined || seen.owner !== this.me || seen.fencingToken !== c.token) {
          await this.stopLocal(c, 'lease_lost');
          return;
        }
        const renewed = await backend.leases.renew(c.lease, this.leaseTtlMs);
        if (renewed === null) {
          await this.stopLocal(c, 'lease_lost');
          return;
        }
        c.lease = renewed;
        this.leases.set(c.id, renewed);
        this.armExpiry(c);
      }),
    );
  }

  private async startLocal(id: string, lease: Lease): Promise<void> {
    const state = this.model.children.get(id);
    if (state === undefined) return; // its spec is not in the log yet
    const spec = state.spec;
    const abort = new AbortController();
    let handle: ChildHandle;
    try {
      const behavior = this.opts.registry.get(spec.behavior);
      handle = await behavior(spec.args, {
        id,
        node: this.cluster.nodeName,
        fencingToken: lease.fencingToken,
        lease: lease.name,
        signal: abort.signal,
      });
    } catch (error) {
      await this.append({
        t: 'exit',
        id,
        node: this.cluster.nodeName,
        token: lease.fencingToken,
        normal: false,
        error: serializeError(error),
        at: this.now(),
      });
      await this.cluster.backend.leases.release(lease);
      this.leases.delete(id);
      return;
    }
    const c: LocalChild = {
      id,
      token: lease.fencingToken,
      lease,
      handle,
      abort,
      shutdownTimeoutMs: spec.shutdownTimeoutMs,
      stopping: false,
      expiry: undefined,
    };
    this.local.set(id, c);
    this.armExpiry(c);
    handle.done.then(
      () => void this.exited(c, true, undefined),
      (error: unknown) => void this.exited(c, false, error),
    );
    await this.append({ t: 'started', id, node: this.cluster.nodeName, token: c.token, at: this.now() });
  }

  /** Stops a local child when its lease runs out without renewal (self-fencing). */
  private armExpiry(c: LocalChild): void {
    const { clock } = this.cluster;
    if (c.expiry !== undefined) clock.clearTimeout(c.expiry);
    c.expiry = clock.setTimeout(
      () => {
        c.expiry = undefined;
        if (!c.stopping && this.now() >= c.lease.expiresAt) void this.stopLocal(c, 'lease_lost');
      },
      Math.max(0, c.lease.expiresAt - this.now()),
    );
  }

  /** A local child exited by itself: record it, then free its placement. */
  private async exited(c: LocalChild, normal: boolean, error: unknown): Promise<void> {
    if (c.stopping) return;
    c.stopping = true;
    if (c.expiry !== undefined) this.cluster.clock.clearTimeout(c.expiry);
    this.local.delete(c.id);
    try {
      await this.append({
        t: 'exit',
        id: c.id,
        node: this.cluster.nodeName,
        token: c.token,
        normal,
        ...(normal ? {} : { error: serializeError(error) }),
        at: this.now(),
      });
      await this.cluster.backend.leases.release(c.lease);
    } catch (e) {
      this.emit({ type: 'error', during: 'exit', error: e, at: this.now() });
    }
    this.kick();
  }

  /** Stops a local child we were told to stop (lease lost, leaving, shutdown). */
  private async stopLocal(c: LocalChild, reason: StopReason): Promise<void> {
    if (c.stopping) return;
    c.stopping = true;
    if (c.expiry !== undefined) this.cluster.clock.clearTimeout(c.expiry);
    c.abort.abort(new SluiceError('LEASE_LOST', `Child "${c.id}" must stop: ${reason}`));
    const { clock } = this.cluster;
    let timer: Timer | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = clock.setTimeout(() => r('timeout'), c.shutdownTimeoutMs);
    });
    try {
      const r = await Promise.race([c.handle.stop(reason).then(() => 'stopped' as const), timeout]);
      if (r === 'timeout') await c.handle.kill?.();
    } catch (error) {
      this.emit({ type: 'error', during: 'stop', error, at: this.now() });
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
    this.local.delete(c.id);
    try {
      await this.append({
        t: 'stopped',
        id: c.id,
        node: this.cluster.nodeName,
        token: c.token,
        reason,
        at: this.now(),
      });
      await this.cluster.backend.leases.release(c.lease);
    } catch (error) {
      this.emit({ type: 'error', during: 'stop', error, at: this.now() });
    }
  }

  private async shutdownLocal(): Promise<void> {
    await Promise.all([...this.local.values()].map((c) => this.stopLocal(c, 'shutdown')));
    if (this.leaderLease !== undefined) {
      await this.cluster.backend.leases.release(this.leaderLease).catch(() => false);
      this.leaderLease = undefined;
    }
    this.current = this.model.shutdown === 'max_restarts' ? 'failed' : 'stopped';
  }

  private async leave(): Promise<void> {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.current === 'running') this.current = 'leaving';
    if (this.timer !== undefined) this.cluster.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    await Promise.all([...this.local.values()].map((c) => this.stopLocal(c, 'node_leaving')));
    if (this.leaderLease !== undefined) {
      await this.cluster.backend.leases.release(this.leaderLease).catch(() => false);
      this.leaderLease = undefined;
    }
    if (this.current === 'leaving') this.current = 'stopped';
    this.notify();
  }

  // ---- the leader -----------------------------------------------------------------------------

  /** Leader duties when this node holds (or gets) the leader lease. Returns the next round time. */
  private async lead(): Promise<number> {
    const { backend } = this.cluster;
    let nextAt = Number.POSITIVE_INFINITY;
    const wasLeader = this.leaderLease !== undefined;
    if (this.leaderLease !== undefined) {
      this.leaderLease = (await backend.leases.renew(this.leaderLease, this.leaseTtlMs)) ?? undefined;
    }
    if (this.leaderLease === undefined) {
      this.leaderLease =
        (await backend.leases.acquire(this.leaderLeaseName, this.me, this.leaseTtlMs)) ?? undefined;
      if (this.leaderLease !== undefined && !wasLeader) {
        // Carry on with the restart history of the log.
        this.window = new RestartWindow(this.opts.maxRestarts, this.opts.withinMs);
        for (const t of this.model.restartTimes) this.window.add(t);
      }
    }
    if (this.leaderLease === undefined) {
      const current = await backend.leases.get(this.leaderLeaseName);
      this.lastLeader = current === undefined ? undefined : parseOwner(current.owner).node;
      // Take over as soon as the leader's lease expires.
      return current === undefined ? nextAt : Math.min(nextAt, current.expiresAt + 1);
    }
    this.lastLeader = this.cluster.nodeName;
    const live = this.liveIncarnations();
    const loads = new Map<string, number>([...live.keys()].map((n) => [n, 0]));
    for (const lease of this.leases.values()) {
      const o = parseOwner(lease.owner);
      if (live.get(o.node) === o.incarnation) loads.set(o.node, (loads.get(o.node) ?? 0) + 1);
    }
    const failedNow = new Map<string, { node: string; incarnation: string; children: number }>();
    const toPlace: {
      id: string;
      reason: PlacementReason;
      preferred: string | undefined;
      exclude?: string;
      from?: string;
    }[] = [];

    for (const id of this.model.order) {
      if (!this.stillLeader()) return nextAt;
      const c = this.model.children.get(id)!;
      const lease = this.leases.get(id);
      if (c.terminateRequested && !c.terminated) {
        await this.append({ t: 'terminated', id, cause: 'request', at: this.now() });
        if (lease !== undefined) await this.releasePlacement(id, lease);
        continue;
      }
      if (c.terminated && !c.restartRequested) {
        if (lease !== undefined) await this.releasePlacement(id, lease); // stale placement of a terminated child
        continue;
      }
      if (lease !== undefined) {
        const o = parseOwner(lease.owner);
        if (live.get(o.node) !== o.incarnation) {
          // Its node is gone (or restarted): the lease must expire before the child moves.
          const key = owner(o.node, o.incarnation);
          const f = failedNow.get(key) ?? { node: o.node, incarnation: o.incarnation, children: 0 };
          f.children++;
          failedNow.set(key, f);
          nextAt = Math.min(nextAt, lease.expiresAt + 1);
        } else if (c.restartRequested || (c.groupPending && lease.fencingToken === c.token)) {
          await this.releasePlacement(id, lease); // bounce: placed again once the node stopped it
        }
        continue;
      }
      if (c.groupPending) continue; // placed together below
      if (
        c.restartRequested &&
        c.token !== 0 &&
        c.ended === undefined &&
        live.get(c.node ?? '') === c.incarnation
      ) {
        continue; // bounced: wait until its node reports it stopped, so it never runs twice
      }
      const decision = this.decide(c, live);
      if (decision === undefined) continue;
      if (decision.kind === 'terminate') {
        await this.append({ t: 'terminated', id, cause: 'exit', at: this.now() });
        continue;
      }
      if (decision.kind === 'failed') {
        const key = owner(decision.node, decision.incarnation);
        const f = failedNow.get(key) ?? {
          node: decision.node,
          incarnation: decision.incarnation,
          children: 0,
        };
        f.children++;
        failedNow.set(key, f);
      }
      if (decision.kind === 'group') {
        if (!(await this.countRestart())) return nextAt;
        await this.startGroupRestart(id);
        continue;
      }
      if (decision.reason === 'restart' && !(await this.countRestart())) return nextAt;
      toPlace.push({
        id,
        reason: decision.reason,
        preferred: decision.preferred,
        ...(decision.exclude === undefined ? {} : { exclude: decision.exclude }),
        ...(decision.from === undefined ? {} : { from: decision.from }),
      });
    }

    for (const f of failedNow.values()) {
      if (this.model.failedNodes.has(owner(f.node, f.incarnation))) continue;
      if (f.children > 0 && !this.window.add(this.now())) {
        await this.append({ t: 'node_failed', ...f, at: this.now() });
        await this.append({ t: 'shutdown', reason: 'max_restarts', at: this.now() });
        return nextAt;
      }
      await this.append({ t: 'node_failed', ...f, at: this.now() });
      this.model.failedNodes.add(owner(f.node, f.incarnation));
    }

    // Group restarts: once no member of the group is placed any more, start them left to right.
    const pending = this.model.order.filter((id) => this.model.children.get(id)!.groupPending);
    const stopped = (id: string) => {
      const c = this.model.children.get(id)!;
      return (
        !this.leases.has(id) &&
        (c.token === 0 || c.ended !== undefined || live.get(c.node ?? '') !== c.incarnation)
      );
    };
    if (pending.length > 0 && pending.every(stopped)) {
      for (const id of pending)
        toPlace.push({ id, reason: 'group', preferred: this.model.children.get(id)!.node });
    }

    for (const p of toPlace) {
      if (!this.stillLeader()) break;
      await this.place(p.id, p.reason, p.preferred, loads, live, p.exclude, p.from);
    }
    await this.checkAutoShutdown();
    return nextAt;
  }

  private decide(
    c: DsupChildState,
    live: Map<string, string>,
  ):
    | {
        kind: 'place';
        reason: PlacementReason;
        preferred: string | undefined;
        exclude?: string;
        from?: string;
      }
    | {
        kind: 'failed';
        reason: PlacementReason;
        node: string;
        incarnation: string;
        preferred: undefined;
        exclude: string;
        from: string;
      }
    | { kind: 'terminate' }
    | { kind: 'group' }
    | undefined {
    if (c.token === 0)
      return { kind: 'place', reason: 'start', preferred: c.addedBy ?? this.cluster.nodeName };
    if (c.restartRequested) return { kind: 'place', reason: 'request', preferred: c.node };
    const ended = c.ended;
    const node = c.node ?? '';
    const incarnation = c.incarnation ?? '';
    if (ended?.kind === 'stopped' && ended.reason === 'node_leaving') {
      return {
        kind: 'place',
        reason: 'handover',
        preferred: undefined,
        exclude: owner(node, incarnation),
        from: node,
      };
    }
    const exitedNormally = ended?.kind === 'exit' && ended.normal;
    const restart = c.spec.restart;
    if (restart === 'temporary' || (restart === 'transient' && exitedNormally)) return { kind: 'terminate' };
    if (this.opts.strategy === 'one_for_all' || this.opts.strategy === 'rest_for_one')
      return { kind: 'group' };
    if (ended?.kind === 'exit') {
      return {
        kind: 'place',
        reason: 'restart',
        preferred: live.get(node) === incarnation ? node : undefined,
      };
    }
    // No exit recorded and no lease: the node stopped renewing it (failed, paused or cut off).
    return {
      kind: 'failed',
      reason: 'migrate',
      node,
      incarnation,
      preferred: undefined,
      exclude: owner(node, incarnation),
      from: node,
    };
  }

  /** Counts a restart against the intensity; on excess records the shutdown and returns false. */
  private async countRestart(): Promise<boolean> {
    if (this.window.add(this.now())) return true;
    await this.append({ t: 'shutdown', reason: 'max_restarts', at: this.now() });
    return false;
  }

  private async startGroupRestart(deadId: string): Promise<void> {
    const active = this.model.activeIds();
    const ids =
      this.opts.strategy === 'one_for_all' ? active : active.slice(Math.max(0, active.indexOf(deadId)));
    const group: string[] = [];
    for (const id of ids) {
      const c = this.model.children.get(id)!;
      if (c.spec.restart === 'temporary' && id !== deadId) {
        await this.append({ t: 'terminated', id, cause: 'exit', at: this.now() });
        const lease = this.leases.get(id);
        if (lease !== undefined) await this.releasePlacement(id, lease);
      } else group.push(id);
    }
    await this.append({ t: 'group_restart', ids: group, cause: deadId, at: this.now() });
    for (const id of [...group].reverse()) {
      const lease = this.leases.get(id);
      if (lease !== undefined) await this.releasePlacement(id, lease);
    }
  }

  /** Frees a placement held by any node: the node sees the lease gone and stops the child. */
  private async releasePlacement(id: string, lease: Lease): Promise<void> {
    await this.cluster.backend.leases.release(lease);
    this.leases.delete(id);
  }

  private async place(
    id: string,
    reason: PlacementReason,
    preferred: string | undefined,
    loads: Map<string, number>,
    live: Map<string, string>,
    exclude?: string,
    from?: string,
  ): Promise<void> {
    const c = this.model.children.get(id);
    if (c === undefined) return;
    const nodes: NodeLoad[] = [...live.entries()]
      .filter(([node, inc]) => owner(node, inc) !== exclude)
      .map(([node]) => ({
        node,
        children: loads.get(node) ?? 0,
        meta: this.cluster.member(node)?.meta ?? {},
      }))
      .sort((a, b) => (a.node < b.node ? -1 : 1));
    if (nodes.length === 0) return;
    const target = this.select({
      child: { id: c.spec.id, behavior: c.spec.behavior, args: c.spec.args, restart: c.spec.restart },
      nodes,
      ...(preferred === undefined ? {} : { preferred }),
      self: this.cluster.nodeName,
    });
    const incarnation = live.get(target);
    if (incarnation === undefined || owner(target, incarnation) === exclude) return; // not placeable now
    const lease = await this.cluster.backend.leases.acquire(
      this.childPrefix + id,
      owner(target, incarnation),
      this.leaseTtlMs,
    );
    if (lease === null) return; // the previous placement has not expired yet
    this.leases.set(id, lease);
    loads.set(target, (loads.get(target) ?? 0) + 1);
    await this.append({
      t: 'placed',
      id,
      node: target,
      incarnation,
      token: lease.fencingToken,
      reason,
      ...(from === undefined ? {} : { from }),
      at: this.now(),
    });
  }

  private async checkAutoShutdown(): Promise<void> {
    const rule = this.opts.autoShutdown;
    if (rule === 'never') return;
    const significant = this.model.order
      .map((id) => this.model.children.get(id)!)
      .filter((c) => c.spec.significant);
    if (significant.length === 0) return;
    const exited = significant.filter((c) => c.terminated && c.terminatedCause === 'exit');
    if (
      (rule === 'any_significant' && exited.length > 0) ||
      (rule === 'all_significant' && exited.length === significant.length)
    ) {
      await this.append({ t: 'shutdown', reason: 'auto_shutdown', at: this.now() });
    }
  }

  private stillLeader(): boolean {
    return (
      this.leaderLease !== undefined && this.now() < this.leaderLease.expiresAt && this.current === 'running'
    );
  }

  // ---- helpers --------------------------------------------------------------------------------

  private now(): number {
    return this.cluster.clock.now();
  }

  private liveIncarnations(): Map<string, string> {
    return new Map(this.cluster.members().map((m) => [m.node, m.incarnation]));
  }

  private async append(rec: DsupRecord): Promise<void> {
    await this.cluster.backend.append(this.topic, [{ partition: 0, payload: rec }]);
    await this.readLog();
  }

  private silent = false;

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

  private readonly waiters = new Set<() => void>();

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    const { clock } = this.cluster;
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clock.clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = clock.setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new SluiceError('TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${what}`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves with the node once child `id` reports started with a token above `after`; rejects on a crash before. */
  private waitStarted(id: string, after: number): Promise<{ id: string; node: string }> {
    const { clock } = this.cluster;
    return new Promise((resolve, reject) => {
      const off = this.onLifecycleEvent((e) => {
        if (e.type === 'child_started' && e.id === id && e.fencingToken > after) {
          done();
          resolve({ id, node: e.node });
        } else if (e.type === 'child_stopped' && e.id === id && !e.normal && e.error !== undefined) {
          done();
          reject(
            new SluiceError('CHILD_FAILED', `Child "${id}" failed to start: ${e.error.message}`, {
              context: { id, error: e.error },
            }),
          );
        }
      });
      const timer = clock.setTimeout(() => {
        off();
        reject(
          new SluiceError('TIMEOUT', `Child "${id}" did not start within ${this.opts.startTimeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, this.opts.startTimeoutMs);
      const done = () => {
        off();
        clock.clearTimeout(timer);
      };
    });
  }
}
