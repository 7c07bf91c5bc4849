// Tests the offset tracker against a reference model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './OffsetTracker.ts';

describe('OffsetTracker', () => {
  it('low only advances over contiguous completions', () => {
    const t = new OffsetTracker(10);
    for (let i = 0; i < 5; i++) t.admit();
    expect(t.complete(12)).toBe(10);
    expect(t.complete(10)).toBe(11);
    expect(t.complete(11)).toBe(13);
    expect(t.isComplete(12)).toBe(true);
    expect(t.isComplete(13)).toBe(false);
    expect(t.complete(14)).toBe(13);
    expect(t.complete(13)).toBe(15);
    expect(t.span).toBe(0);
  });

  it('matches a reference model for any completion order (grows past its initial capacity)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 400 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
            ),
          ),
        ([n, order]) => {
          const t = new OffsetTracker();
          for (let i = 0; i < n; i++) t.admit();
          const done = new Set<number>();
          for (const i of order) {
            done.add(i);
            let low = 0;
            while (done.has(low)) low++;
            expect(t.complete(i)).toBe(low);
          }
          expect(t.low).toBe(n);
        },
      ),
    );
  });
});
