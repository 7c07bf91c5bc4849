// The children a DistributedSupervisor runs on this node: start what is placed here, renew, stop what was lost.
import type { Lease } from '../../backend/Backend.ts';
import type { Timer } from '../../core/Clock.ts';
import { SluiceError, serializeError } from '../../core/errors.ts';
import type { ChildHandle } from '../../supervision/types.ts';
import type { BehaviorRegistry } from './BehaviorRegistry.ts';
import type { Cluster } from './Cluster.ts';
import type { DsupChildState } from './DsupModel.ts';
import type {
  DistributedLifecycleEvent,
  DsupRecord,
  NormalizedDistributedChild,
  StopReason,
} from './dsupTypes.ts';

/** What the local children need from their supervisor. @internal */
export interface LocalHost {
  readonly cluster: Cluster;
  readonly registry: BehaviorRegistry;
  /** This node's lease owner `<node>#<incarnation>`. */
  readonly me: string;
  readonly leaseTtlMs: number;
  /** Placement leases by child id, as last listed (kept up to date with renewals). */
  readonly leases: Map<string, Lease>;
  spec(id: string): NormalizedDistributedChild | undefined;
  /** Why a child whose lease is gone must stop (a deliberate release names its cause). */
  lostReason(id: string): StopReason;
  append(rec: DsupRecord): Promise<void>;
  emit(event: DistributedLifecycleEvent): void;
  kick(): void;
}

const STOP_REASON: Record<string, StopReason> = {
  restart: 'restart_requested',
  move: 'rebalance',
  group: 'group_restart',
};

/** Why a node stops a child whose placement lease is gone: the leader's request names it, else `lease_lost`. */
export function lostReasonOf(c: DsupChildState | undefined): StopReason {
  if (c === undefined) return 'lease_lost';
  if (c.phase.phase === 'terminated' || c.request === 'terminate') return 'terminated';
  return (c.request === undefined ? undefined : STOP_REASON[c.request]) ?? 'lease_lost';
}

/** A child running on this node: `running`, then `stopping` once it exits or is told to stop. */
interface LocalChild {
  readonly id: string;
  readonly token: number;
  lease: Lease;
  readonly handle: ChildHandle;
  readonly abort: AbortController;
  readonly shutdownTimeoutMs: number;
  state: 'running' | 'stopping';
  expiry: Timer | undefined;
}

/** The children of one supervisor running on this node. @internal */
export class LocalChildren {
  private readonly local = new Map<string, LocalChild>();
  /** `<id>:<token>` of every placement started on this node. */
  private readonly startedHere = new Set<string>();

  constructor(private readonly host: LocalHost) {}

  /** Ids running here, sorted. */
  ids(): string[] {
    return [...this.local.keys()].sort();
  }

  /** Starts the children placed on this node, renews their leases, stops the ones it lost. */
  async tend(): Promise<void> {
    const { host } = this;
    for (const [id, lease] of host.leases) {
      if (lease.owner !== host.me || this.local.has(id)) continue;
      // A placement is started once: the listing may predate the exit of that very instance.
      const key = `${id}:${lease.fencingToken}`;
      if (this.startedHere.has(key)) continue;
      this.startedHere.add(key);
      await this.start(id, lease);
    }
    await Promise.all([...this.local.values()].map((c) => this.renew(c)));
  }

  /** Stops every local child with `reason`. */
  stopAll(reason: StopReason): Promise<void> {
    return Promise.all([...this.local.values()].map((c) => this.stop(c, reason))).then(() => {});
  }

  private async renew(c: LocalChild): Promise<void> {
    if (c.state !== 'running') return;
    const { host } = this;
    const seen = host.leases.get(c.id);
    if (seen === undefined || seen.owner !== host.me || seen.fencingToken !== c.token) {
      await this.stop(c, host.lostReason(c.id));
      return;
    }
    const renewed = await host.cluster.backend.leases.renew(c.lease, host.leaseTtlMs);
    if (renewed === null) {
      await this.stop(c, 'lease_lost');
      return;
    }
    c.lease = renewed;
    host.leases.set(c.id, renewed);
    this.armExpiry(c);
  }

  private async start(id: string, lease: Lease): Promise<void> {
    const { host } = this;
    const spec = host.spec(id);
    if (spec === undefined) return; // its spec is not in the log yet
    const abort = new AbortController();
    const node = host.cluster.nodeName;
    let handle: ChildHandle;
    try {
      const behavior = host.registry.get(spec.behavior);
      handle = await behavior(spec.args, {
        id,
        node,
        fencingToken: lease.fencingToken,
        lease: lease.name,
        signal: abort.signal,
      });
    } catch (error) {
      const at = host.cluster.clock.now();
      const rec: DsupRecord = { t: 'exit', id, node, token: lease.fencingToken, normal: false, at };
      await host.append({ ...rec, error: serializeError(error) });
      await host.cluster.backend.leases.release(lease);
      host.leases.delete(id);
      return;
    }
    const c: LocalChild = {
      id,
      token: lease.fencingToken,
      lease,
      handle,
      abort,
      shutdownTimeoutMs: spec.shutdownTimeoutMs,
      state: 'running',
      expiry: undefined,
    };
    this.local.set(id, c);
    this.armExpiry(c);
    handle.done.then(
      () => void this.exited(c, true, undefined),
      (error: unknown) => void this.exited(c, false, error),
    );
    await host.append({ t: 'started', id, node, token: c.token, at: host.cluster.clock.now() });
  }

  /** Stops a local child when its lease runs out without renewal (self-fencing). */
  private armExpiry(c: LocalChild): void {
    const { clock } = this.host.cluster;
    if (c.expiry !== undefined) clock.clearTimeout(c.expiry);
    c.expiry = clock.setTimeout(
      () => {
        c.expiry = undefined;
        if (c.state === 'running' && clock.now() >= c.lease.expiresAt) void this.stop(c, 'lease_lost');
      },
      Math.max(0, c.lease.expiresAt - clock.now()),
    );
  }

  /** Marks a child stopping; false when it already was. */
  private settle(c: LocalChild): boolean {
    if (c.state === 'stopping') return false;
    c.state = 'stopping';
    if (c.expiry !== undefined) this.host.cluster.clock.clearTimeout(c.expiry);
    return true;
  }

  /** A local child exited by itself: record it, then free its placement. */
  private async exited(c: LocalChild, normal: boolean, error: unknown): Promise<void> {
    if (!this.settle(c)) return;
    const { host } = this;
    this.local.delete(c.id);
    try {
      await host.append({
        t: 'exit',
        id: c.id,
        node: host.cluster.nodeName,
        token: c.token,
        normal,
        ...(normal ? {} : { error: serializeError(error) }),
        at: host.cluster.clock.now(),
      });
      await host.cluster.backend.leases.release(c.lease);
    } catch (e) {
      host.emit({ type: 'error', during: 'exit', error: e, at: host.cluster.clock.now() });
    }
    host.kick();
  }

  /** Stops a local child we were told to stop (lease lost or released, leaving, shutdown). */
  private async stop(c: LocalChild, reason: StopReason): Promise<void> {
    if (!this.settle(c)) return;
    const { host } = this;
    const { clock } = host.cluster;
    c.abort.abort(new SluiceError('LEASE_LOST', `Child "${c.id}" must stop: ${reason}`));
    let timer: Timer | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = clock.setTimeout(() => r('timeout'), c.shutdownTimeoutMs);
    });
    try {
      const r = await Promise.race([c.handle.stop(reason).then(() => 'stopped' as const), timeout]);
      if (r === 'timeout') await c.handle.kill?.();
    } catch (error) {
      host.emit({ type: 'error', during: 'stop', error, at: clock.now() });
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
    this.local.delete(c.id);
    try {
      const node = host.cluster.nodeName;
      await host.append({ t: 'stopped', id: c.id, node, token: c.token, reason, at: clock.now() });
      await host.cluster.backend.leases.release(c.lease);
    } catch (error) {
      host.emit({ type: 'error', during: 'stop', error, at: clock.now() });
    }
  }
}
