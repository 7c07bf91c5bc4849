// PartitionAssignment: immutable owner table of virtual partitions, with reassign, diff, key routing, JSON.
import { configError, SluiceError } from '../core/errors.ts';
import { DEFAULT_PARTITIONS } from '../core/hash.ts';
import {
  type AssignmentFn,
  type AssignmentStrategyName,
  assignmentStrategies,
} from './assignmentStrategies.ts';
import { murmur3Utf8 } from './fastHash.ts';
import { parseMemberList, parsePositiveInt } from './members.ts';
import type { Partitioner } from './Partitioner.ts';

/** Options of {@link PartitionAssignment.create}. */
export interface PartitionAssignmentOptions {
  /** Members (workers, nodes) that own partitions. Non-empty, distinct. */
  members: readonly string[];
  /** Number of virtual partitions (default 256, the `DEFAULT_PARTITIONS` keys map to). */
  partitions?: number;
  /** How partitions are spread (default `'sticky'`); see `assignmentStrategies`. */
  strategy?: AssignmentStrategyName | AssignmentFn;
  /** The assignment being replaced: sticky strategies keep as many owners as they can. */
  previous?: PartitionAssignment;
}

/** A partition that changes owner between two assignments. */
export interface PartitionMove {
  readonly partition: number;
  /** Previous owner. */
  readonly from: string;
  /** New owner. */
  readonly to: string;
}

/** The JSON form of a {@link PartitionAssignment}: `owners[p]` owns partition `p`. */
export interface PartitionAssignmentJSON {
  partitions: number;
  strategy: string;
  owners: string[];
}

/**
 * Which member owns each of a fixed number of virtual partitions. Keys map to partitions with
 * `partitionForKey(key, partitions)` (MurmurHash3 mod P, the function every backend uses), and
 * partitions — not keys — are assigned to members, so offsets and per-key state move with
 * whole partitions when members come and go.
 *
 * Immutable: {@link reassign} returns a new assignment; {@link diff} lists what moved.
 * It is also a {@link Partitioner}: `route(key)` is the owner of the key's partition.
 *
 * @example
 * ```ts
 * const a1 = PartitionAssignment.create({ members: ['n1', 'n2'] });   // 128 partitions each
 * const a2 = a1.reassign(['n1', 'n2', 'n3']);                         // n3 takes ~85
 * for (const { partition, from, to } of PartitionAssignment.diff(a1, a2)) handOver(partition, from, to);
 * a2.route('customer-7'); // owner of partitionForKey('customer-7', 256)
 * ```
 */
export class PartitionAssignment implements Partitioner<string> {
  /** Number of partitions. */
  readonly partitions: number;
  /** Members, in the order given. */
  readonly members: readonly string[];
  /** Name of the strategy that produced it (`'custom'` for a function). */
  readonly strategy: string;
  private readonly owners: readonly string[];
  private readonly fn: AssignmentFn;
  private readonly byMember: Map<string, number[]>;

  private constructor(
    partitions: number,
    members: readonly string[],
    owners: readonly string[],
    strategy: string,
    fn: AssignmentFn,
  ) {
    this.partitions = partitions;
    this.members = members;
    this.owners = owners;
    this.strategy = strategy;
    this.fn = fn;
    this.byMember = new Map(members.map((m) => [m, []]));
    owners.forEach((m, p) => {
      this.byMember.get(m)!.push(p);
    });
  }

  /**
   * Assigns `partitions` partitions (default 256) to `members` with `strategy` (default
   * `'sticky'`). Bad options give `CONFIG_INVALID` naming the field; a custom strategy that
   * returns an owner that is not a member gives `INVALID_STATE`.
   */
  static create(options: PartitionAssignmentOptions): PartitionAssignment {
    if (typeof options !== 'object' || options === null) {
      throw configError('partitionAssignment', 'an object', options);
    }
    const members = parseMemberList(options.members, 'partitionAssignment.members');
    const partitions = parsePositiveInt(
      options.partitions ?? options.previous?.partitions ?? DEFAULT_PARTITIONS,
      'partitionAssignment.partitions',
      1 << 24,
    );
    const { name, fn } = resolveStrategy(options.strategy);
    const previous = options.previous;
    if (previous !== undefined && previous.partitions !== partitions) {
      throw configError(
        'partitionAssignment.previous',
        `an assignment of ${partitions} partitions`,
        previous.partitions,
      );
    }
    const owners = fn({ partitions, members, previous: previous?.owners });
    checkOwners(owners, partitions, members, name);
    return new PartitionAssignment(partitions, members, [...owners], name, fn);
  }

  /** Rebuilds an assignment from {@link toJSON} output (strategy functions are not restored: `'custom'` becomes sticky). */
  static fromJSON(json: PartitionAssignmentJSON): PartitionAssignment {
    if (typeof json !== 'object' || json === null || !Array.isArray(json.owners)) {
      throw configError(
        'partitionAssignment.owners',
        'an array of owners',
        (json as { owners?: unknown })?.owners,
      );
    }
    const partitions = parsePositiveInt(json.partitions, 'partitionAssignment.partitions', 1 << 24);
    const members = [...new Set(json.owners)];
    const { name, fn } = resolveStrategy(
      json.strategy in assignmentStrategies ? (json.strategy as AssignmentStrategyName) : 'sticky',
    );
    checkOwners(json.owners, partitions, members, 'fromJSON');
    return new PartitionAssignment(partitions, members, [...json.owners], name, fn);
  }

  /**
   * Partitions whose owner differs from `prev` to `next`, by partition number.
   * Both must have the same partition count (`CONFIG_INVALID` otherwise).
   */
  static diff(prev: PartitionAssignment, next: PartitionAssignment): PartitionMove[] {
    if (prev.partitions !== next.partitions) {
      throw configError('diff.next.partitions', `${prev.partitions} (the same as prev)`, next.partitions);
    }
    const moves: PartitionMove[] = [];
    for (let p = 0; p < prev.partitions; p++) {
      const from = prev.owners[p]!;
      const to = next.owners[p]!;
      if (from !== to) moves.push({ partition: p, from, to });
    }
    return moves;
  }

  /** The owner of `partition` (`CONFIG_INVALID` if it is not in `0..partitions-1`). */
  ownerOf(partition: number): string {
    const owner = this.owners[partition];
    if (owner === undefined || !Number.isInteger(partition)) {
      throw configError('partition', `an integer in [0, ${this.partitions - 1}]`, partition);
    }
    return owner;
  }

  /** The partitions `member` owns, ascending (empty if it is not a member). */
  partitionsOf(member: string): readonly number[] {
    return this.byMember.get(member) ?? [];
  }

  /** The partition of `key`: the same as `partitionForKey(key, partitions)`. */
  partitionOf(key: string): number {
    return murmur3Utf8(key) % this.partitions;
  }

  /** The owner of the partition of `key`. */
  route(key: string): string {
    return this.owners[murmur3Utf8(key) % this.partitions]!;
  }

  /** Number of partitions per member. */
  counts(): Map<string, number> {
    return new Map([...this.byMember].map(([m, ps]) => [m, ps.length]));
  }

  /**
   * The assignment for a new member set, by the same strategy, with this one as `previous`
   * (so `'sticky'` moves only what balance requires).
   */
  reassign(members: readonly string[]): PartitionAssignment {
    return PartitionAssignment.create({
      members,
      partitions: this.partitions,
      strategy: this.strategy === 'custom' ? this.fn : (this.strategy as AssignmentStrategyName),
      previous: this,
    });
  }

  /** A copy of the owner table: `owners[p]` owns partition `p`. */
  ownersArray(): string[] {
    return [...this.owners];
  }

  /** Plain JSON form (store it in a backend, send it to other nodes). */
  toJSON(): PartitionAssignmentJSON {
    return { partitions: this.partitions, strategy: this.strategy, owners: [...this.owners] };
  }
}

/** Shorthand for {@link PartitionAssignment.create}. */
export function assignPartitions(options: PartitionAssignmentOptions): PartitionAssignment {
  return PartitionAssignment.create(options);
}

function resolveStrategy(strategy: AssignmentStrategyName | AssignmentFn | undefined): {
  name: string;
  fn: AssignmentFn;
} {
  if (strategy === undefined) return { name: 'sticky', fn: assignmentStrategies.sticky };
  if (typeof strategy === 'function') return { name: 'custom', fn: strategy };
  const fn = typeof strategy === 'string' ? assignmentStrategies[strategy] : undefined;
  if (fn === undefined || !Object.hasOwn(assignmentStrategies, strategy)) {
    throw configError(
      'partitionAssignment.strategy',
      `one of ${Object.keys(assignmentStrategies)
        .map((s) => `'${s}'`)
        .join(', ')} or a function`,
      strategy,
    );
  }
  return { name: strategy, fn };
}

function checkOwners(
  owners: readonly string[],
  partitions: number,
  members: readonly string[],
  strategy: string,
): void {
  const set = new Set(members);
  if (!Array.isArray(owners) || owners.length !== partitions) {
    throw new SluiceError(
      'INVALID_STATE',
      `partition strategy ${strategy} returned ${Array.isArray(owners) ? owners.length : typeof owners} owners for ${partitions} partitions`,
    );
  }
  for (let p = 0; p < partitions; p++) {
    if (!set.has(owners[p]!)) {
      throw new SluiceError(
        'INVALID_STATE',
        `partition strategy ${strategy} gave partition ${p} to ${JSON.stringify(owners[p])}, which is not a member`,
        { context: { partition: p, owner: owners[p] } },
      );
    }
  }
}
