// computeAssignment: the partition table for the live runners from the configured strategy and current holders.
import { type AssignmentFn, assignmentStrategies } from '../../partition/assignmentStrategies.ts';
import { PartitionAssignment } from '../../partition/PartitionAssignment.ts';
import { balancedStickyAssignment } from './balancedStickyAssignment.ts';
import type { ResolvedRunnerOptions } from './runnerOptions.ts';

/**
 * The partition table for the live runners `members`, given the current holder of each partition
 * (`holders[p]`, a member name or `undefined` when free or held by a dead runner). Every runner
 * computes it on its own; the strategy must be deterministic.
 * @internal
 */
export function computeAssignment(
  strategy: ResolvedRunnerOptions<unknown>['assignment'],
  members: readonly string[],
  partitions: number,
  holders: readonly (string | undefined)[],
): PartitionAssignment {
  const fn: AssignmentFn =
    typeof strategy === 'function'
      ? strategy
      : strategy === 'balanced_sticky'
        ? balancedStickyAssignment
        : assignmentStrategies[strategy];
  return PartitionAssignment.create({
    members,
    partitions,
    strategy: (ctx) => fn({ ...ctx, previous: holders as readonly string[] }),
  });
}

/** The partitions `p` with `p % total === index` (fixed mode). */
export function fixedPartitions(partitions: number, index: number, total: number): number[] {
  const out: number[] = [];
  for (let p = index; p < partitions; p += total) out.push(p);
  return out;
}

/** Whether two lists hold the same items in the same order. */
export function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
