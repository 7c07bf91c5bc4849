// Property test of Deque against an array used as a double-ended queue (push, unshift, shift, peek, length).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deque } from './Deque.ts';

describe('Deque', () => {
  it('behaves like an array used as a double-ended queue', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('push' as const), v: fc.integer() }),
            fc.record({ op: fc.constant('unshift' as const), v: fc.integer() }),
            fc.record({ op: fc.constant('shift' as const) }),
          ),
        ),
        (ops) => {
          const d = new Deque<number>(2);
          const ref: number[] = [];
          for (const o of ops) {
            if (o.op === 'push') {
              d.push(o.v);
              ref.push(o.v);
            } else if (o.op === 'unshift') {
              d.unshift(o.v);
              ref.unshift(o.v);
            } else expect(d.shift()).toBe(ref.shift());
            expect(d.length).toBe(ref.length);
            expect(d.peek()).toBe(ref[0]);
          }
          expect([...d]).toEqual(ref);
        },
      ),
    );
  });
});
