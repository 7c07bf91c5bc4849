// The least-loaded balancer: in-flight count per member, fewest wins, ties round robin; acquire/release/run.
import { SluiceError } from '../../core/errors.ts';
import { notAMember, parseMemberList } from '../members.ts';
import type { Balancer } from './Balancer.ts';

/**
 * A least-loaded balancer: counts in-flight work per member and picks the member with the
 * fewest; among equally loaded members it goes round robin.
 */
export interface LeastLoadedBalancer extends Balancer<unknown> {
  /** Picks the least-loaded member and counts one more in-flight item on it. Same as `acquire`. */
  pick(): string;
  /** Picks the least-loaded member and counts one more in-flight item on it. */
  acquire(): string;
  /** One in-flight item of `member` finished. `NOT_FOUND` for an unknown member, `INVALID_STATE` below zero. */
  release(member: string): void;
  /** Runs `fn` on the least-loaded member, releasing it when `fn` settles. */
  run<R>(fn: (member: string) => Promise<R> | R): Promise<R>;
  /** In-flight count of `member` (0 if unknown). */
  inFlight(member: string): number;
  /** In-flight count per member. */
  loads(): Map<string, number>;
}

/**
 * Creates a {@link LeastLoadedBalancer}. Every `acquire`/`pick` must be matched by one
 * `release(member)`, or use `run(fn)` which does both.
 *
 * @example
 * ```ts
 * const lb = leastLoaded(['w1', 'w2', 'w3']);
 * const member = lb.acquire();
 * try { await send(member, job) } finally { lb.release(member) }
 * // or: await lb.run((member) => send(member, job));
 * ```
 */
export function leastLoaded(members: readonly string[]): LeastLoadedBalancer {
  const list = parseMemberList(members, 'leastLoaded.members');
  const n = list.length;
  const load = new Array<number>(n).fill(0);
  const index = new Map(list.map((m, i) => [m, i]));
  let cursor = 0;
  const acquire = (): string => {
    let best = cursor;
    for (let k = 1; k < n; k++) {
      const i = (cursor + k) % n;
      if (load[i]! < load[best]!) best = i;
    }
    load[best]!++;
    cursor = (best + 1) % n;
    return list[best]!;
  };
  const release = (member: string): void => {
    const i = index.get(member);
    if (i === undefined) throw notAMember(member, 'leastLoaded.release');
    if (load[i] === 0) {
      throw new SluiceError(
        'INVALID_STATE',
        `leastLoaded.release: ${JSON.stringify(member)} has nothing in flight`,
        {
          context: { member },
        },
      );
    }
    load[i]!--;
  };
  return {
    members: list,
    pick: acquire,
    acquire,
    release,
    async run(fn) {
      const member = acquire();
      try {
        return await fn(member);
      } finally {
        release(member);
      }
    },
    inFlight: (member) => {
      const i = index.get(member);
      return i === undefined ? 0 : load[i]!;
    },
    loads: () => new Map(list.map((m, i) => [m, load[i]!])),
  };
}
