// The default runner assignment: balanced quotas by member name, sticky to current lease holders, no coordinator.
import type { AssignmentFn } from '../../partition/assignmentStrategies.ts';

const byName = (members: readonly string[]): string[] =>
  [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The default assignment of {@link partitionedRunner}: balanced and sticky, designed for runners
 * that each compute the table on their own from what they observe (live members and current lease
 * holders), without a coordinator.
 *
 * - Quotas depend only on the member set: with `P` partitions and `N` members, the first
 *   `P mod N` members in name order get `ceil(P/N)`, the others `floor(P/N)`.
 * - Each member keeps its lowest-numbered held partitions up to its quota.
 * - The pool (unheld partitions, partitions held by non-members, and partitions held beyond a
 *   quota) goes, lowest first, to members under quota in name order.
 *
 * `previous[p]` is the current holder of `p` (or `undefined`/`''` when free). Because quotas do
 * not depend on the holdings and over-quota partitions are in the pool whether they are still
 * held or already released, the result does not change while runners carry it out (release,
 * acquire): observers that see different intermediate states still agree, and no partition
 * flaps between owners.
 *
 * @example
 * ```ts
 * PartitionAssignment.create({ members: ['a', 'b'], partitions: 4, strategy: balancedStickyAssignment });
 * ```
 */
export const balancedStickyAssignment: AssignmentFn = ({ partitions, members, previous }) => {
  const names = byName(members);
  const base = Math.floor(partitions / names.length);
  const extra = partitions % names.length;
  const quota = new Map<string, number>(names.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
  const owners = new Array<string>(partitions);
  const pool: number[] = [];
  for (let p = 0; p < partitions; p++) {
    const holder = previous?.[p];
    const left = holder === undefined ? undefined : quota.get(holder);
    if (holder !== undefined && left !== undefined && left > 0) {
      owners[p] = holder;
      quota.set(holder, left - 1);
    } else {
      pool.push(p);
    }
  }
  let next = 0;
  for (const m of names) {
    for (let q = quota.get(m)!; q > 0; q--) owners[pool[next++]!] = m;
  }
  return owners;
};
