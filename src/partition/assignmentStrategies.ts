// Partition assignment strategies: sticky (default), range, round_robin, and bounded consistent_hash.
import { DEFAULT_VNODES, defaultRingHash } from './ConsistentHash.ts';
import { Ring } from './Ring.ts';

/** What an assignment strategy is given: the partition count, the members and the previous owners. */
export interface AssignmentContext {
  /** Number of partitions, `0..partitions-1`. */
  readonly partitions: number;
  /** The members to assign partitions to (validated: non-empty, distinct). */
  readonly members: readonly string[];
  /** The previous owner of each partition, when reassigning; `undefined` the first time. */
  readonly previous: readonly string[] | undefined;
}

/**
 * A partition assignment strategy: returns the owner of every partition (an array of length
 * `partitions` whose entries are members). Strategies must be deterministic.
 */
export type AssignmentFn = (context: AssignmentContext) => readonly string[];

/** Built-in strategy names. */
export type AssignmentStrategyName = 'sticky' | 'range' | 'round_robin' | 'consistent_hash';

const byName = (members: readonly string[]): string[] =>
  [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Balanced and sticky (the default): every member gets `floor(P/N)` or `ceil(P/N)` partitions and
 * as few partitions as possible change owner. Members that held the most keep the larger quotas;
 * each member keeps its lowest-numbered partitions up to its quota; freed partitions (from
 * members over quota or gone) go, lowest first, to members under quota in name order.
 * Without a previous assignment this gives contiguous ranges in member-name order.
 */
export const stickyAssignment: AssignmentFn = ({ partitions, members, previous }) => {
  const names = byName(members);
  const held = new Map<string, number[]>(names.map((m) => [m, []]));
  const pool: number[] = [];
  for (let p = 0; p < partitions; p++) {
    const owner = previous?.[p];
    const list = owner === undefined ? undefined : held.get(owner);
    if (list) list.push(p);
    else pool.push(p);
  }
  const base = Math.floor(partitions / names.length);
  const extra = partitions % names.length;
  // The `extra` larger quotas go to the members holding the most (ties by name).
  const order = [...names].sort((a, b) => held.get(b)!.length - held.get(a)!.length || (a < b ? -1 : 1));
  const quota = new Map<string, number>();
  order.forEach((m, i) => {
    quota.set(m, base + (i < extra ? 1 : 0));
  });
  const owners = new Array<string>(partitions);
  for (const m of names) {
    const list = held.get(m)!;
    const keep = Math.min(quota.get(m)!, list.length);
    for (let i = 0; i < list.length; i++) {
      if (i < keep) owners[list[i]!] = m;
      else pool.push(list[i]!);
    }
    quota.set(m, quota.get(m)! - keep);
  }
  pool.sort((a, b) => a - b);
  let next = 0;
  for (const m of names) {
    for (let q = quota.get(m)!; q > 0; q--) owners[pool[next++]!] = m;
  }
  return owners;
};

/** Contiguous ranges in member-name order (Kafka's range assignor): member `i` of `N` gets `[⌊iP/N⌋, ⌊(i+1)P/N⌋)`. */
export const rangeAssignment: AssignmentFn = ({ partitions, members }) => {
  const names = byName(members);
  const owners = new Array<string>(partitions);
  const n = names.length;
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * partitions) / n);
    const to = Math.floor(((i + 1) * partitions) / n);
    for (let p = from; p < to; p++) owners[p] = names[i]!;
  }
  return owners;
};

/** Partition `p` goes to the `p mod N`-th member in name order. */
export const roundRobinAssignment: AssignmentFn = ({ partitions, members }) => {
  const names = byName(members);
  return Array.from({ length: partitions }, (_, p) => names[p % names.length]!);
};

/**
 * Consistent hashing of partition ids (`"p<id>"`) with a static bounded load: each partition,
 * in order, goes to the first member clockwise on the ring that holds fewer than `ceil(P/N)`
 * partitions. Balanced within `ceil(P/N)`, and the result depends only on the member set (not
 * on the previous assignment), so independent processes compute the same table without
 * talking to each other. Moves more than `'sticky'` on a change, far fewer than `'range'`.
 */
export const consistentHashAssignment: AssignmentFn = ({ partitions, members }) => {
  const ring = new Ring(
    members,
    members.map(() => 1),
    DEFAULT_VNODES,
    defaultRingHash,
  );
  const cap = Math.ceil(partitions / members.length);
  const load = new Array<number>(members.length).fill(0);
  const owners = new Array<string>(partitions);
  for (let p = 0; p < partitions; p++) {
    let i = ring.indexOf(defaultRingHash(`p${p}`));
    while (load[ring.owners[i]!]! >= cap) i = i + 1 === ring.size ? 0 : i + 1;
    const m = ring.owners[i]!;
    load[m]!++;
    owners[p] = members[m]!;
  }
  return owners;
};

/** The built-in strategies by name. */
export const assignmentStrategies: Readonly<Record<AssignmentStrategyName, AssignmentFn>> = {
  sticky: stickyAssignment,
  range: rangeAssignment,
  round_robin: roundRobinAssignment,
  consistent_hash: consistentHashAssignment,
};
