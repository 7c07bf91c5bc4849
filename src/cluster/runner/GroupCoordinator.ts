// The runner group's coordination: one elected leader computes and publishes the assignment with a generation; every runner reads the generation.
import type { Backend, GroupAssignment } from '../../backend/Backend.ts';
import type { Clock } from '../../core/Clock.ts';
import { computeAssignment, sameList } from './runnerAssignment.ts';
import type { ResolvedRunnerOptions } from './runnerOptions.ts';
import { runnerMemberPrefix } from './runnerTypes.ts';

/** Name of the lease whose holder leads the runners of `group`/`topic`. */
export function runnerLeaderLeaseName(group: string, topic: string): string {
  return `sluice-runner-leader/${group}/${topic}`;
}

/** Name under which the assignment of `group`/`topic` is published. */
export function runnerAssignmentName(group: string, topic: string): string {
  return `${group}/${topic}`;
}

/** What one coordination step tells a runner. */
export interface CoordinationView {
  /** The generation this view belongs to (`0` before the first publish). */
  readonly generation: number;
  /** The members of that generation, in name order. */
  readonly members: readonly string[];
  /** This runner's partitions in that generation, ascending (empty when it is not a member yet). */
  readonly target: readonly number[];
  /** When the next step should run at the latest (the leader: when a member's heartbeat expires). */
  readonly nextAt: number;
}

/** Where a {@link GroupCoordinator} works and for whom. */
export interface GroupCoordinatorOptions {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly group: string;
  readonly topic: string;
  /** This runner's member name. */
  readonly nodeName: string;
  /** This runner incarnation's lease owner (`<node>#<instance>`). */
  readonly owner: string;
  readonly heartbeatMs: number;
  readonly failureTimeoutMs: number;
  readonly partitionCount: number;
  readonly assignment: ResolvedRunnerOptions<unknown>['assignment'];
}

/**
 * The group coordinator of one runner, in the style of Kafka's. Each step (one per heartbeat, or
 * sooner when asked):
 *
 * - it tries to take or keep the leader lease (one call; the holder's call renews it);
 * - the leader reads the live runners (O(N) rows) and, when they differ from the published
 *   generation's members, computes the new table with the runner's strategy from the published
 *   owners (so `balancedStickyAssignment` moves only what must move) and publishes it as the next
 *   generation (compare-and-set: a stale leader cannot overwrite a newer table);
 * - every runner reads the generation (one row) and fetches the table only when it changed.
 *
 * A runner's cost per step is therefore O(1) rows, the leader's O(N); nobody lists partition
 * leases. Moving a partition stays fenced by its lease: the new owner acquires it only once the
 * previous one released it (or it expired), and commits carry the lease's token.
 * @internal Used by {@link PartitionedRunner}.
 */
export class GroupCoordinator {
  private readonly leaderLease: string;
  private readonly name: string;
  private readonly prefix: string;
  private current: GroupAssignment | undefined;
  /** Whether this runner held the leader lease at its last step. */
  leader = false;
  /** Leader steps that published a new generation (for stats and tests). */
  published = 0;

  constructor(private readonly o: GroupCoordinatorOptions) {
    this.leaderLease = runnerLeaderLeaseName(o.group, o.topic);
    this.name = runnerAssignmentName(o.group, o.topic);
    this.prefix = runnerMemberPrefix(o.group, o.topic);
  }

  /** The published assignment last seen (`undefined` before the first). */
  get assignment(): GroupAssignment | undefined {
    return this.current;
  }

  /** One coordination step (see the class comment); returns this runner's view of the current generation. */
  async step(): Promise<CoordinationView> {
    const { backend, clock, failureTimeoutMs, owner } = this.o;
    let nextAt = clock.now() + this.o.heartbeatMs;
    // The leader renews its lease by acquiring it again; the others read it and try to take it
    // only once it is free or expired (and look again the moment it expires).
    const held = this.leader ? undefined : await backend.leases.get(this.leaderLease);
    if (held !== undefined && held.owner !== owner) {
      this.leader = false;
      nextAt = Math.min(nextAt, held.expiresAt + 1);
    } else {
      this.leader = (await backend.leases.acquire(this.leaderLease, owner, failureTimeoutMs)) !== null;
    }
    await this.refresh();
    if (this.leader) nextAt = Math.min(nextAt, await this.lead());
    return { ...this.viewOf(this.current), nextAt };
  }

  /** Gives the leadership up (a graceful stop), so another runner leads at its next step. */
  async resign(): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    const lease = await this.o.backend.leases.get(this.leaderLease);
    if (lease !== undefined && lease.owner === this.o.owner) await this.o.backend.leases.release(lease);
  }

  /** Reads the generation; fetches the table only when it changed. */
  private async refresh(): Promise<void> {
    const generation = await this.o.backend.assignments.generation(this.name);
    if (generation === (this.current?.generation ?? 0)) return;
    this.current = await this.o.backend.assignments.get(this.name);
  }

  /** The leader's pass: publish a new generation when the live runners changed. Returns when to look again. */
  private async lead(): Promise<number> {
    const { backend, clock, failureTimeoutMs, group, topic, partitionCount } = this.o;
    let nextAt = Number.POSITIVE_INFINITY;
    const live = (await backend.membership.members(failureTimeoutMs)).filter(
      (m) => m.node.startsWith(this.prefix) && m.meta.group === group && m.meta.topic === topic,
    );
    const members = live.map((m) => m.node.slice(this.prefix.length));
    for (const m of live) {
      if (m.node !== this.prefix + this.o.nodeName) {
        nextAt = Math.min(nextAt, m.lastHeartbeat + failureTimeoutMs + 1);
      }
    }
    if (!members.includes(this.o.nodeName)) return nextAt; // our own heartbeat is not visible yet
    const cur = this.current;
    const previous = new Array<string | undefined>(partitionCount);
    if (cur !== undefined) {
      for (let p = 0; p < partitionCount; p++) {
        const name = cur.members[cur.owners[p] ?? -1];
        previous[p] = name !== undefined && members.includes(name) ? name : undefined;
      }
    }
    const table = computeAssignment(this.o.assignment, members, partitionCount, previous);
    const index = new Map(members.map((m, i) => [m, i]));
    const owners = table.ownersArray().map((m) => index.get(m) ?? -1);
    if (cur !== undefined && sameList(cur.members, members) && sameList(cur.owners, owners)) return nextAt;
    const published = await backend.assignments.publish(this.name, cur?.generation ?? 0, {
      leader: this.o.nodeName,
      members,
      owners,
    });
    if (published === null) {
      // Another leader published first: read its table now, decide again at the next step.
      this.current = await backend.assignments.get(this.name);
      return Math.min(nextAt, clock.now() + Math.max(10, this.o.heartbeatMs / 4));
    }
    this.current = published;
    this.published++;
    return nextAt;
  }

  private viewOf(a: GroupAssignment | undefined): Omit<CoordinationView, 'nextAt'> {
    if (a === undefined) return { generation: 0, members: [], target: [] };
    const me = a.members.indexOf(this.o.nodeName);
    const target: number[] = [];
    if (me >= 0) {
      for (let p = 0; p < a.owners.length; p++) if (a.owners[p] === me) target.push(p);
    }
    return { generation: a.generation, members: a.members, target };
  }
}
