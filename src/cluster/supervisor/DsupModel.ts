// The state of a distributed supervisor rebuilt from its control log: one phase per child, the counters, the restart history.
import type {
  DistributedLifecycleEvent,
  DsupRecord,
  NormalizedDistributedChild,
  StopReason,
} from './dsupTypes.ts';

/** Where a placement of a child is (or was): node, incarnation and the lease's fencing token. */
export interface PlacementRef {
  readonly node: string;
  readonly incarnation: string;
  readonly token: number;
}

/** How a placement ended, when its node reported it. */
export type PlacementEnd = { kind: 'exit'; normal: boolean } | { kind: 'stopped'; reason: StopReason };

/**
 * Where a child is in its life, from the log:
 * - `unplaced`: never placed (or added again after a termination);
 * - `starting`: placed on a node that has not reported the start yet;
 * - `running`: its node reported it started;
 * - `ended`: its node reported it exited or stopped; the leader decides what comes next;
 * - `terminated`: not to be started again (unless `restartChild`).
 */
export type ChildPhase =
  | { readonly phase: 'unplaced' }
  | ({ readonly phase: 'starting' } & PlacementRef)
  | ({ readonly phase: 'running' } & PlacementRef)
  | ({ readonly phase: 'ended'; readonly end: PlacementEnd } & PlacementRef)
  | { readonly phase: 'terminated'; readonly cause: 'request' | 'exit' };

/**
 * A request on a child not carried out yet: `terminate` (`terminateChild`), `restart`
 * (`restartChild`), `group` (restarted with its siblings), `move` (re-spread to another node).
 */
export type ChildRequest = 'terminate' | 'restart' | 'group' | 'move';

/** What the control log says about one child. */
export interface DsupChildState {
  readonly spec: NormalizedDistributedChild;
  phase: ChildPhase;
  request: ChildRequest | undefined;
  /** The highest placement token recorded (older records are ignored). */
  lastToken: number;
  /** The node that asked for it (`startChild` caller). */
  readonly addedBy: string | undefined;
  /** Placements after the first. */
  restarts: number;
  /** Set while no live node offers the child's behavior (reported once). */
  unplaceable: boolean;
}

/** The placement of a child in `starting`, `running` or `ended`, else undefined. */
export function placementOf(c: DsupChildState): PlacementRef | undefined {
  const p = c.phase;
  return p.phase === 'starting' || p.phase === 'running' || p.phase === 'ended' ? p : undefined;
}

const ref = (r: { node: string; incarnation: string; token: number }): PlacementRef => ({
  node: r.node,
  incarnation: r.incarnation,
  token: r.token,
});

/**
 * The state of a distributed supervisor rebuilt from its control log. Pure: every node applies
 * the same records in the same order and gets the same model; `apply` returns the lifecycle
 * events a record means. Only `apply` changes it.
 * @internal
 */
export class DsupModel {
  readonly children = new Map<string, DsupChildState>();
  /** Child ids in start order (static children first, then added ones). */
  readonly order: string[] = [];
  /** `node#incarnation` recorded as failed → when. */
  readonly failedNodes = new Map<string, number>();
  /** Times of restarts that count towards the restart intensity. */
  readonly restartTimes: number[] = [];
  totalRestarts = 0;
  /** Node failures that restarted children elsewhere (one per failure, however many children). */
  nodeFailureRestarts = 0;
  migrations = 0;
  rebalances = 0;
  nodeFailures = 0;
  shutdown: 'stop' | 'max_restarts' | 'auto_shutdown' | undefined;

  constructor(staticChildren: readonly NormalizedDistributedChild[]) {
    for (const spec of staticChildren) this.addChild(spec);
  }

  /** Child ids in order that are not terminated. */
  activeIds(): string[] {
    return this.order.filter((id) => this.children.get(id)!.phase.phase !== 'terminated');
  }

  apply(rec: DsupRecord): DistributedLifecycleEvent[] {
    switch (rec.t) {
      case 'add':
        return this.onAdd(rec.spec, rec.by);
      case 'terminate':
        this.request(rec.id, 'terminate');
        return [];
      case 'restart':
        this.request(rec.id, 'restart');
        return [];
      case 'move':
        this.request(rec.id, 'move');
        return [];
      case 'group_restart':
        for (const id of rec.ids) this.request(id, 'group');
        this.restartTimes.push(rec.at);
        return [];
      case 'placed':
        return this.onPlaced(rec);
      case 'started':
        return this.onStarted(rec);
      case 'exit':
      case 'stopped':
        return this.onEnded(rec);
      case 'node_failed':
        return this.onNodeFailed(rec);
      case 'terminated': {
        const c = this.children.get(rec.id);
        if (c === undefined || c.phase.phase === 'terminated') return [];
        c.phase = { phase: 'terminated', cause: rec.cause };
        c.request = undefined;
        return [{ type: 'child_terminated', id: rec.id, cause: rec.cause, at: rec.at }];
      }
      case 'unplaceable': {
        const c = this.children.get(rec.id);
        if (c === undefined || c.unplaceable) return [];
        c.unplaceable = true;
        return [
          {
            type: 'child_unplaceable',
            id: rec.id,
            behavior: c.spec.behavior,
            code: 'NO_ELIGIBLE_NODE',
            at: rec.at,
          },
        ];
      }
      case 'shutdown': {
        if (this.shutdown !== undefined) return [];
        this.shutdown = rec.reason;
        const events: DistributedLifecycleEvent[] = [];
        if (rec.reason === 'max_restarts') events.push({ type: 'max_restarts_exceeded', at: rec.at });
        events.push({ type: 'supervisor_stopped', reason: rec.reason, at: rec.at });
        return events;
      }
      case 'generation':
        return [];
    }
  }

  /** Records a request; a termination is not overridden by a later restart, move or group request. */
  private request(id: string, request: ChildRequest): void {
    const c = this.children.get(id);
    if (c === undefined) return;
    const terminated = c.phase.phase === 'terminated';
    if (request === 'terminate' && terminated) return;
    if ((request === 'group' || request === 'move') && terminated) return;
    if (c.request === 'terminate') return;
    if (request === 'move' && c.request !== undefined) return;
    c.request = request;
  }

  private onAdd(spec: NormalizedDistributedChild, by: string): DistributedLifecycleEvent[] {
    const existing = this.children.get(spec.id);
    if (existing === undefined) this.addChild(spec, by);
    else if (existing.phase.phase === 'terminated') {
      // Re-adding a terminated id starts it again with the new spec.
      this.children.set(spec.id, {
        ...this.fresh(spec, by),
        lastToken: existing.lastToken,
        restarts: existing.restarts,
      });
    }
    return [];
  }

  private onPlaced(rec: Extract<DsupRecord, { t: 'placed' }>): DistributedLifecycleEvent[] {
    const c = this.children.get(rec.id);
    if (c === undefined || rec.token <= c.lastToken) return [];
    const first = c.phase.phase === 'unplaced' && rec.reason === 'start';
    c.lastToken = rec.token;
    c.phase = { phase: 'starting', ...ref(rec) };
    c.request = undefined;
    c.unplaceable = false;
    if (first) return [];
    c.restarts++;
    this.totalRestarts++;
    if (rec.reason === 'restart') this.restartTimes.push(rec.at);
    const events: DistributedLifecycleEvent[] = [];
    if (rec.reason === 'migrate' || rec.reason === 'handover' || rec.reason === 'rebalance') {
      if (rec.reason === 'rebalance') this.rebalances++;
      else this.migrations++;
      events.push({ type: 'child_migrated', id: rec.id, from: rec.from ?? '', to: rec.node, at: rec.at });
    }
    events.push({ type: 'child_restarted', id: rec.id, node: rec.node, restarts: c.restarts, at: rec.at });
    return events;
  }

  private onStarted(rec: Extract<DsupRecord, { t: 'started' }>): DistributedLifecycleEvent[] {
    const c = this.children.get(rec.id);
    if (c === undefined) return [];
    const p = placementOf(c);
    if (rec.token > c.lastToken) {
      // Placed by a leader that died before recording it.
      c.lastToken = rec.token;
      c.phase = { phase: 'running', node: rec.node, incarnation: p?.incarnation ?? '', token: rec.token };
    } else if (c.phase.phase === 'starting' && c.phase.token === rec.token) {
      c.phase = { ...c.phase, phase: 'running' };
    }
    return [{ type: 'child_started', id: rec.id, node: rec.node, fencingToken: rec.token, at: rec.at }];
  }

  private onEnded(rec: Extract<DsupRecord, { t: 'exit' | 'stopped' }>): DistributedLifecycleEvent[] {
    const c = this.children.get(rec.id);
    if (c === undefined) return [];
    const end: PlacementEnd =
      rec.t === 'exit' ? { kind: 'exit', normal: rec.normal } : { kind: 'stopped', reason: rec.reason };
    const p = c.phase;
    if ((p.phase === 'starting' || p.phase === 'running') && p.token === rec.token) {
      c.phase = { phase: 'ended', node: p.node, incarnation: p.incarnation, token: p.token, end };
    }
    if (rec.t === 'stopped') {
      return [
        { type: 'child_stopped', id: rec.id, node: rec.node, normal: true, reason: rec.reason, at: rec.at },
      ];
    }
    return [
      {
        type: 'child_stopped',
        id: rec.id,
        node: rec.node,
        normal: rec.normal,
        reason: rec.normal ? 'normal' : 'crashed',
        ...(rec.error === undefined ? {} : { error: rec.error }),
        at: rec.at,
      },
    ];
  }

  private onNodeFailed(rec: Extract<DsupRecord, { t: 'node_failed' }>): DistributedLifecycleEvent[] {
    const key = `${rec.node}#${rec.incarnation}`;
    if (this.failedNodes.has(key)) return [];
    this.failedNodes.set(key, rec.at);
    this.nodeFailures++;
    if (rec.children > 0) {
      this.restartTimes.push(rec.at);
      this.nodeFailureRestarts++;
    }
    return [{ type: 'node_failure_detected', node: rec.node, at: rec.at }];
  }

  private fresh(spec: NormalizedDistributedChild, addedBy?: string): DsupChildState {
    return {
      spec,
      phase: { phase: 'unplaced' },
      request: undefined,
      lastToken: 0,
      addedBy,
      restarts: 0,
      unplaceable: false,
    };
  }

  private addChild(spec: NormalizedDistributedChild, addedBy?: string): void {
    this.children.set(spec.id, this.fresh(spec, addedBy));
    this.order.push(spec.id);
  }
}
