// A cluster node: its heartbeat, the live members it sees, and their join/fail/leave events.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Backend } from '../../backend/Backend.ts';
import { type Clock, systemClock, type Timer } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import { TypedEmitter } from '../../core/events.ts';
import { validate } from '../../core/validate.ts';
import { Membership } from '../membership/Membership.ts';

/** Prefix of the membership entries of cluster nodes. */
export const CLUSTER_MEMBER_PREFIX = 'sluice-node/';

/** A live cluster node as last seen. */
export interface ClusterMember {
  readonly node: string;
  /** Changes every time the node process starts: tells a restarted node from its previous life. */
  readonly incarnation: string;
  /** User metadata given to `Cluster.start`. */
  readonly meta: Record<string, unknown>;
  readonly lastHeartbeat: number;
  readonly joinedAt: number;
}

/** Events of a {@link Cluster}. */
export type ClusterEvents = {
  /** A node became live (first heartbeat seen, or back after being declared failed). */
  node_joined: [member: ClusterMember];
  /** A live node's heartbeat is older than `failureTimeout`. */
  node_failed: [event: { node: string; lastHeartbeat: number }];
  /** A node left gracefully (`close()`). */
  node_left: [event: { node: string }];
  /** A heartbeat or membership read failed; retried on the next heartbeat. */
  error: [event: { error: unknown }];
};

/** Options of {@link Cluster.start}. */
export interface ClusterOptions {
  /** This node's name, unique in the cluster. */
  nodeName: string;
  /** Where membership (and everything built on the cluster) lives. */
  backend: Backend;
  /** Heartbeat interval (default `1s`). */
  heartbeat?: Duration;
  /** A node whose heartbeat is older than this is failed (default `5s`). */
  failureTimeout?: Duration;
  /** Metadata published with the heartbeat (JSON). */
  meta?: Record<string, unknown>;
  /** Time source (default `systemClock`); use the backend's clock. */
  clock?: Clock;
  /** Aborting it closes the node. */
  signal?: AbortSignal;
}

/** Lifecycle of a cluster node. */
export type ClusterState = 'running' | 'closing' | 'closed';

const schema = z.object({
  nodeName: z
    .string('a non-empty string without "#"')
    .min(1, 'a non-empty string without "#"')
    .refine((s) => !s.includes('#'), 'a non-empty string without "#"'),
  backend: z.custom<Backend>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Backend).membership === 'object',
    'a Backend',
  ),
  heartbeat: z.unknown().optional(),
  failureTimeout: z.unknown().optional(),
  meta: z.record(z.string(), z.unknown(), 'an object').optional(),
  clock: z.unknown().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
});

/** Long enough to still see the entries of failed nodes (they are removed only on leave). */
const SEE_ALL_MS = 365 * 24 * 3600 * 1000;

/**
 * One node of a cluster: heartbeats into the backend's membership and watches the others.
 * Every node sees the same membership, so components built on it (the
 * {@link DistributedSupervisor}) agree on which nodes are live without talking to each other.
 *
 * @example
 * ```ts
 * const cluster = await Cluster.start({ nodeName: 'node-a', backend, heartbeat: '1s', failureTimeout: '5s' });
 * cluster.on('node_failed', ({ node }) => log.warn({ node }, 'node failed'));
 * cluster.members(); // live nodes, sorted by name
 * await cluster.close();
 * ```
 */
export class Cluster {
  /** This node's name. */
  readonly nodeName: string;
  /** This node's incarnation (random, per start). */
  readonly incarnation = randomUUID().slice(0, 8);
  readonly backend: Backend;
  readonly heartbeatMs: number;
  readonly failureTimeoutMs: number;
  readonly clock: Clock;
  private readonly events = new TypedEmitter<ClusterEvents>();
  private readonly meta: Record<string, unknown>;
  private readonly advertised = new Map<string, unknown>();
  private readonly membership: Membership;
  private live = new Map<string, ClusterMember>();
  private timer: Timer | undefined;
  private ticking: Promise<void> | undefined;
  private current: ClusterState = 'running';
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => void this.close();

  private constructor(options: ClusterOptions) {
    const o = validate(schema, options, 'cluster');
    this.nodeName = o.nodeName;
    this.backend = o.backend;
    this.heartbeatMs = parseDuration(o.heartbeat ?? 1000, 'cluster.heartbeat');
    this.failureTimeoutMs = parseDuration(o.failureTimeout ?? 5000, 'cluster.failureTimeout');
    if (this.heartbeatMs < 1) throw configError('cluster.heartbeat', 'a duration >= 1ms', o.heartbeat);
    if (this.failureTimeoutMs <= this.heartbeatMs) {
      throw configError(
        'cluster.failureTimeout',
        `a duration longer than heartbeat (${this.heartbeatMs} ms)`,
        o.failureTimeout,
      );
    }
    this.meta = o.meta ?? {};
    this.membership = new Membership(o.backend, CLUSTER_MEMBER_PREFIX, o.nodeName);
    this.clock = (o.clock as Clock | undefined) ?? systemClock;
  }

  /** Joins the cluster (first heartbeat) and starts watching the other nodes. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(options);
    await cluster.tick();
    options.signal?.addEventListener('abort', cluster.onAbort, { once: true });
    cluster.schedule();
    return cluster;
  }

  get state(): ClusterState {
    return this.current;
  }

  /** The live nodes (this one included), sorted by name, as of the last heartbeat round. */
  members(): ClusterMember[] {
    return [...this.live.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** A live node by name. */
  member(node: string): ClusterMember | undefined {
    return this.live.get(node);
  }

  /** Heartbeats and re-reads the membership now (instead of waiting for the next round). */
  refresh(): Promise<void> {
    if (this.ticking === undefined) {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
      });
    }
    return this.ticking;
  }

  /**
   * Publishes `value` under `key` in this node's membership meta from the next heartbeat on
   * (`undefined` removes it). Components built on the cluster use it to tell the others what this
   * node offers (the {@link DistributedSupervisor} advertises its registered behaviors).
   */
  advertise(key: string, value: unknown): void {
    if (value === undefined) this.advertised.delete(key);
    else this.advertised.set(key, value);
  }

  /** Subscribes to a membership event; returns an unsubscribe function. */
  on<E extends keyof ClusterEvents>(event: E, fn: (...args: ClusterEvents[E]) => void): () => void {
    return this.events.on(event, fn);
  }

  /** Leaves the cluster gracefully: the others see `node_left`. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.current = 'closing';
    this.timerOff();
    await this.ticking;
    this.timerOff();
    try {
      await this.membership.leave();
    } catch (error) {
      this.events.emit('error', { error });
    }
    this.current = 'closed';
  }

  private timerOff(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.current !== 'running') return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.refresh()
        .catch((error: unknown) => this.events.emit('error', { error }))
        .finally(() => this.schedule());
    }, this.heartbeatMs);
  }

  private async tick(): Promise<void> {
    if (this.current !== 'running') return;
    await this.membership.heartbeat({
      ...this.meta,
      ...Object.fromEntries(this.advertised),
      incarnation: this.incarnation,
    });
    const all = await this.membership.list(SEE_ALL_MS);
    const now = this.clock.now();
    const next = new Map<string, ClusterMember>();
    const present = new Set<string>();
    for (const m of all) {
      present.add(m.name);
      if (now - m.lastHeartbeat > this.failureTimeoutMs) continue;
      const { incarnation, ...meta } = m.meta;
      next.set(m.name, {
        node: m.name,
        incarnation: String(incarnation),
        meta,
        lastHeartbeat: m.lastHeartbeat,
        joinedAt: m.joinedAt,
      });
    }
    const previous = this.live;
    this.live = next;
    if (this.current !== 'running') return;
    for (const [node, m] of next) {
      const before = previous.get(node);
      if (before === undefined || before.incarnation !== m.incarnation) this.events.emit('node_joined', m);
    }
    for (const [node, m] of previous) {
      if (next.has(node)) continue;
      if (present.has(node)) this.events.emit('node_failed', { node, lastHeartbeat: m.lastHeartbeat });
      else this.events.emit('node_left', { node });
    }
  }
}
