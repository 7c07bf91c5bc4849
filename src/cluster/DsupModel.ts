import type {
  DistributedLifecycleEvent,
  DsupRecord,
  NormalizedDistributedChild,
  StopReason,
} from './dsupTypes.ts';

/** What the control log says about one child. */
export interface DsupChildState {
  readonly spec: NormalizedDistributedChild;
  /** Terminated: not to be started again (unless `restartChild`). */
  terminated: boolean;
  /** The latest placement token (0 before the first placement). */
  token: number;
  /** Node and incarnation of the latest placement. */
  node: string | undefined;
  incarnation: string | undefined;
  /** How the latest placement ended, when it did. */
  ended: { kind: 'exit'; normal: boolean } | { kind: 'stopped'; reason: StopReason } | undefined;
  /** A `terminateChild` request not handled yet. */
  terminateRequested: boolean;
  /** Why it was terminated. */
  terminatedCause: 'request' | 'exit' | undefined;
  /** The node that asked for it (`startChild` caller). */
  addedBy: string | undefined;
  /** A `restartChild` request arrived after the latest placement. */
  restartRequested: boolean;
  /** A group restart includes it and it was not placed again yet. */
  groupPending: boolean;
  /** Placements after the first. */
  restarts: number;
}

/**
 * The state of a distributed supervisor rebuilt from its control log. Pure: every node applies
 * the same records in the same order and gets the same model; `apply` returns the lifecycle
 * events a record means.
 * @internal
 */
export class DsupModel {
  readonly children = new Map<string, DsupChildState>();
  /** Child ids in start order (static children first, then added ones). */
  readonly order: string[] = [];
  /** `node#incarnation` already recorded as failed. */
  readonly failedNodes = new Set<string>();
  /** Times of restarts that count towards the restart intensity. */
  readonly restartTimes: number[] = [];
  totalRestarts = 0;
  nodeFailureRestarts = 0;
  migrations = 0;
  nodeFailures = 0;
  shutdown: 'stop' | 'max_restarts' | 'auto_shutdown' | undefined;

  constructor(staticChildren: readonly NormalizedDistributedChild[]) {
    for (const spec of staticChildren) this.addChild(spec);
  }

  /** Child ids in order that are not terminated. */
  activeIds(): string[] {
    return this.order.filter((id) => !this.children.get(id)!.terminated);
  }

  apply(rec: DsupRecord): DistributedLifecycleEvent[] {
    switch (rec.t) {
      case 'add': {
        const existing = this.children.get(rec.spec.id);
        if (existing === undefined) this.addChild(rec.spec, rec.by);
        else if (existing.terminated) {
          // Re-adding a terminated id starts it again with the new spec.
          this.children.set(rec.spec.id, {
            ...this.fresh(rec.spec, rec.by),
            token: existing.token,
            restarts: existing.restarts,
          });
        }
        return [];
      }
      case 'terminate': {
        const c = this.children.get(rec.id);
        if (c !== undefined && !c.terminated) c.terminateRequested = true;
        return [];
      }
      case 'restart': {
        const c = this.children.get(rec.id);
        if (c !== undefined) c.restartRequested = true;
        return [];
      }
      case 'placed': {
        const c = this.children.get(rec.id);
        if (c === undefined || rec.token <= c.token) return [];
        const first = c.token === 0;
        c.token = rec.token;
        c.node = rec.node;
        c.incarnation = rec.incarnation;
        c.ended = undefined;
        c.restartRequested = false;
        c.groupPending = false;
        c.terminated = false;
        c.terminatedCause = undefined;
        if (first && rec.reason === 'start') return [];
        c.restarts++;
        this.totalRestarts++;
        if (rec.reason === 'restart') this.restartTimes.push(rec.at);
        const events: DistributedLifecycleEvent[] = [];
        if (rec.reason === 'migrate' || rec.reason === 'handover') {
          this.migrations++;
          if (rec.reason === 'migrate') this.nodeFailureRestarts++;
          events.push({ type: 'child_migrated', id: rec.id, from: rec.from ?? '', to: rec.node, at: rec.at });
        }
        events.push({
          type: 'child_restarted',
          id: rec.id,
          node: rec.node,
          restarts: c.restarts,
          at: rec.at,
        });
        return events;
      }
      case 'started': {
        const c = this.children.get(rec.id);
        if (c === undefined) return [];
        if (rec.token > c.token) {
          // Placed by a leader that died before recording it.
          c.token = rec.token;
          c.node = rec.node;
          c.ended = undefined;
        }
        return [{ type: 'child_started', id: rec.id, node: rec.node, fencingToken: rec.token, at: rec.at }];
      }
      case 'exit': {
        const c = this.children.get(rec.id);
        if (c === undefined) return [];
        if (rec.token === c.token && c.ended === undefined) c.ended = { kind: 'exit', normal: rec.normal };
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
      case 'stopped': {
        const c = this.children.get(rec.id);
        if (c === undefined) return [];
        if (rec.token === c.token && c.ended === undefined) c.ended = { kind: 'stopped', reason: rec.reason };
        return [
          { type: 'child_stopped', id: rec.id, node: rec.node, normal: true, reason: rec.reason, at: rec.at },
        ];
      }
      case 'node_failed': {
        const key = `${rec.node}#${rec.incarnation}`;
        if (this.failedNodes.has(key)) return [];
        this.failedNodes.add(key);
        this.nodeFailures++;
        if (rec.children > 0) this.restartTimes.push(rec.at);
        return [{ type: 'node_failure_detected', node: rec.node, at: rec.at }];
      }
      case 'group_restart': {
        for (const id of rec.ids) {
          const c = this.children.get(id);
          if (c !== undefined && !c.terminated) c.groupPending = true;
        }
        this.restartTimes.push(rec.at);
        return [];
      }
      case 'terminated': {
        const c = this.children.get(rec.id);
        if (c === undefined || c.terminated) return [];
        c.terminated = true;
        c.terminatedCause = rec.cause;
        c.terminateRequested = false;
        c.restartRequested = false;
        c.groupPending = false;
        return [{ type: 'child_terminated', id: rec.id, cause: rec.cause, at: rec.at }];
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

  private fresh(spec: NormalizedDistributedChild, addedBy?: string): DsupChildState {
    return {
      spec,
      terminated: false,
      terminateRequested: false,
      terminatedCause: undefined,
      addedBy,
      token: 0,
      node: undefined,
      incarnation: undefined,
      ended: undefined,
      restartRequested: false,
      groupPending: false,
      restarts: 0,
    };
  }

  private addChild(spec: NormalizedDistributedChild, addedBy?: string): void {
    this.children.set(spec.id, this.fresh(spec, addedBy));
    this.order.push(spec.id);
  }
}
