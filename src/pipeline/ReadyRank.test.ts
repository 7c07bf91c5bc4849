// Property test of the ranked ready list: any sequence of push/unshift/shift/update/remove matches a sorted reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Rankable, RankedReady, type RankRules } from './ReadyRank.ts';

interface Key extends Rankable {
  readonly id: number;
}

const newKey = (id: number, rank: number, readyAt: number, weight: number): Key => ({
  id,
  heapIndex: -1,
  order: 0,
  pass: 0,
  weight,
  readyAt,
  rank,
});

/** The key the rules say runs next among `listed`, found by a plain scan. */
function reference(listed: Key[], rules: RankRules): Key | undefined {
  let best: Key | undefined;
  for (const k of listed) {
    if (best === undefined) best = k;
    else {
      const score = (q: Key) => (rules.agingMs === undefined ? 0 : q.rank - q.readyAt / rules.agingMs);
      const a = score(k);
      const b = score(best);
      const before =
        a !== b ? a > b : rules.weighted && k.pass !== best.pass ? k.pass < best.pass : k.order < best.order;
      if (before) best = k;
    }
  }
  return best;
}

const op = fc.oneof(
  fc.record({
    kind: fc.constantFrom('push' as const, 'unshift' as const),
    rank: fc.integer({ min: 0, max: 3 }),
    readyAt: fc.integer({ min: 0, max: 50 }),
    weight: fc.constantFrom(1, 2, 3),
    pass: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({ kind: fc.constant('shift' as const) }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), rank: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
);

describe('RankedReady', () => {
  it('always hands out the key a full scan would pick', () => {
    fc.assert(
      fc.property(
        fc.record({ agingMs: fc.constantFrom(undefined, 10, 1000), weighted: fc.boolean() }),
        fc.array(op, { maxLength: 200 }),
        (rules, ops) => {
          const list = new RankedReady<Key>(rules);
          const listed: Key[] = [];
          let id = 0;
          for (const o of ops) {
            if (o.kind === 'push' || o.kind === 'unshift') {
              const k = newKey(id++, o.rank, o.readyAt, o.weight);
              k.pass = o.pass;
              if (o.kind === 'push') list.push(k);
              else {
                k.order = -(id + 1); // an unshifted key keeps an earlier turn it had (unique here)
                list.unshift(k);
              }
              listed.push(k);
            } else if (o.kind === 'shift') {
              const want = reference(listed, rules);
              const got = list.shift();
              expect(got?.id).toBe(want?.id);
              if (got !== undefined) listed.splice(listed.indexOf(got), 1);
            } else if ((o.kind === 'update' || o.kind === 'remove') && listed.length > 0) {
              const k = listed[o.pick % listed.length]!;
              if (o.kind === 'update') {
                k.rank = o.rank;
                list.update(k);
              } else {
                list.remove(k);
                listed.splice(listed.indexOf(k), 1);
                expect(k.heapIndex).toBe(-1);
              }
            }
            expect(list.length).toBe(listed.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
