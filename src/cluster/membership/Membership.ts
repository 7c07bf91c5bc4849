// One member's heartbeats in the backend's membership store, under a prefix: publish, list the live members, leave.
import type { Backend } from '../../backend/Backend.ts';

/** A member under a {@link Membership} prefix, as last read. */
export interface MemberEntry {
  /** Its name without the prefix. */
  readonly name: string;
  /** The meta of its latest heartbeat. */
  readonly meta: Record<string, unknown>;
  readonly lastHeartbeat: number;
  readonly joinedAt: number;
}

/**
 * The heartbeat of one member (a cluster node, a runner) and the view of its peers under the
 * same prefix. The one place that writes and reads membership entries: {@link Cluster} and the
 * partitioned runners both stand on it, so the prefix, the meta and the leave are handled alike.
 * @internal
 */
export class Membership {
  /** The full entry name: `prefix + name`. */
  readonly id: string;

  constructor(
    private readonly backend: Backend,
    /** Prefix shared by the peers (e.g. `sluice-node/`). */
    readonly prefix: string,
    /** This member's name under the prefix. */
    readonly name: string,
  ) {
    this.id = prefix + name;
  }

  /** Publishes a heartbeat with `meta` (it replaces the meta stored before). */
  heartbeat(meta: Record<string, unknown>): Promise<void> {
    return this.backend.membership.heartbeat(this.id, meta);
  }

  /** The members under the prefix whose heartbeat is within `withinMs` of now, by name. */
  async list(withinMs: number): Promise<MemberEntry[]> {
    const all = await this.backend.membership.members(withinMs);
    return all
      .filter((m) => m.node.startsWith(this.prefix))
      .map((m) => ({
        name: m.node.slice(this.prefix.length),
        meta: m.meta,
        lastHeartbeat: m.lastHeartbeat,
        joinedAt: m.joinedAt,
      }));
  }

  /** Removes this member's entry (a graceful leave). */
  leave(): Promise<void> {
    return this.backend.membership.leave(this.id);
  }
}
