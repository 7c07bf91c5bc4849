// The smooth weighted round-robin balancer (nginx's algorithm) over integer member weights.
import { z } from 'zod';
import { validate } from '../../core/validate.ts';
import type { Balancer } from './Balancer.ts';

const weightsSchema = z
  .record(
    z.string().min(1, 'a non-empty member name'),
    z.number('an integer >= 1').int('an integer >= 1').min(1, 'an integer >= 1'),
    'a {member: weight} map',
  )
  .refine((r) => Object.keys(r).length > 0, 'a non-empty {member: weight} map');

/**
 * Smooth weighted round robin (nginx's algorithm): on each pick every member's current value
 * grows by its weight, the largest wins (ties: first listed) and loses the total weight.
 * Over every cycle of `sum(weights)` picks each member is picked exactly `weight` times, and
 * picks are spread out: `{a: 5, b: 1, c: 1}` gives `a a b a c a a`, not `a a a a a b c`.
 * Weights are integers >= 1.
 *
 * @example
 * ```ts
 * const lb = weightedRoundRobin({ big: 3, small: 1 });
 * lb.pick(); // 'big', 'big', 'small', 'big', then again
 * ```
 */
export function weightedRoundRobin(weights: Readonly<Record<string, number>>): Balancer<unknown> {
  const parsed = validate(weightsSchema, weights, 'weightedRoundRobin.weights');
  const members = Object.keys(parsed);
  const w = members.map((m) => parsed[m]!);
  const total = w.reduce((a, b) => a + b, 0);
  const current = new Array<number>(members.length).fill(0);
  return {
    members,
    pick() {
      let best = 0;
      for (let i = 0; i < members.length; i++) {
        current[i]! += w[i]!;
        if (current[i]! > current[best]!) best = i;
      }
      current[best]! -= total;
      return members[best]!;
    },
  };
}
