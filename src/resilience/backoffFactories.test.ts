// Property and unit tests of the backoff factories: exponential jitter bounds, fixed, custom and toBackoff shapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backoff } from './Backoff.ts';
import { backoff, toBackoff } from './backoffFactories.ts';

const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const optionsArb = fc
  .record({
    initial: fc.integer({ min: 0, max: 10_000 }),
    extra: fc.integer({ min: 0, max: 100_000 }),
    multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
    attempt: fc.integer({ min: 1, max: 200 }),
    r: randomArb,
  })
  .map(({ initial, extra, ...rest }) => ({ initial, max: initial + extra, ...rest }));

function cap(initial: number, max: number, multiplier: number, attempt: number): number {
  return initial === 0 ? 0 : Math.min(max, initial * multiplier ** (attempt - 1));
}

describe('backoff.exponential', () => {
  it('none: exact sequence, doubling then capped', () => {
    const b = backoff.exponential({ initial: '100ms', max: '1s', multiplier: 2, jitter: 'none' });
    const seq = [1, 2, 3, 4, 5, 6, 7].map((n) => b.next(n, 0));
    expect(seq).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('defaults: 1s initial, 1m cap, multiplier 2, full jitter', () => {
    const top = backoff.exponential({ random: () => 0.999999 });
    expect(top.next(1, 0)).toBeCloseTo(1000, 0);
    expect(top.next(3, 0)).toBeCloseTo(4000, 0);
    expect(top.next(50, 0)).toBeCloseTo(60_000, 0);
    const bottom = backoff.exponential({ random: () => 0 });
    expect(bottom.next(5, 0)).toBe(0);
  });

  it('none: equals the cap for any options (property)', () => {
    fc.assert(
      fc.property(optionsArb, ({ initial, max, multiplier, attempt }) => {
        const b = backoff.exponential({ initial, max, multiplier, jitter: 'none' });
        expect(b.next(attempt, 0)).toBe(cap(initial, max, multiplier, attempt));
      }),
    );
  });

  it('full: within [0, cap] (property)', () => {
    fc.assert(
      fc.property(optionsArb, ({ initial, max, multiplier, attempt, r }) => {
        const b = backoff.exponential({ initial, max, multiplier, jitter: 'full', random: () => r });
        const d = b.next(attempt, 0);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(cap(initial, max, multiplier, attempt));
      }),
    );
  });

  it('equal: within [cap/2, cap] (property)', () => {
    fc.assert(
      fc.property(optionsArb, ({ initial, max, multiplier, attempt, r }) => {
        const b = backoff.exponential({ initial, max, multiplier, jitter: 'equal', random: () => r });
        const d = b.next(attempt, 0);
        const c = cap(initial, max, multiplier, attempt);
        expect(d).toBeGreaterThanOrEqual(c / 2);
        expect(d).toBeLessThanOrEqual(c);
      }),
    );
  });

  it('decorrelated: within [initial, min(max, 3 * previous)] along a whole sequence (property)', () => {
    fc.assert(
      fc.property(
        optionsArb,
        fc.array(randomArb, { minLength: 1, maxLength: 30 }),
        ({ initial, max }, rs) => {
          let i = 0;
          const b = backoff.exponential({ initial, max, jitter: 'decorrelated', random: () => rs[i++] ?? 0 });
          let prev = 0;
          for (let attempt = 1; attempt <= rs.length; attempt++) {
            const d = b.next(attempt, prev);
            const upper = Math.min(max, 3 * Math.max(prev, initial));
            expect(d).toBeGreaterThanOrEqual(initial);
            expect(d).toBeLessThanOrEqual(upper);
            prev = d;
          }
        },
      ),
    );
  });

  it('decorrelated: the top of the range grows from the previous delay', () => {
    const b = backoff.exponential({
      initial: 100,
      max: 10_000,
      jitter: 'decorrelated',
      random: () => 0.999999,
    });
    const first = b.next(1, 0);
    expect(first).toBeCloseTo(300, 0);
    expect(b.next(2, first)).toBeCloseTo(900, 0);
    expect(b.next(3, 5000)).toBeCloseTo(10_000, 0);
  });

  it('clamps a random source that leaves [0, 1)', () => {
    const b = backoff.exponential({ initial: 100, max: 100, jitter: 'full', random: () => 7 });
    expect(b.next(1, 0)).toBe(100);
    const n = backoff.exponential({ initial: 100, max: 100, jitter: 'full', random: () => -1 });
    expect(n.next(1, 0)).toBe(0);
  });

  it('never returns NaN or Infinity for huge attempts', () => {
    const b = backoff.exponential({ initial: '1s', max: '1h', jitter: 'none' });
    expect(b.next(1_000_000, 0)).toBe(3_600_000);
    const z = backoff.exponential({ initial: 0, max: 0, jitter: 'none' });
    expect(z.next(1_000_000, 0)).toBe(0);
  });

  it('max defaults to initial when initial exceeds one minute', () => {
    const b = backoff.exponential({ initial: '2m', jitter: 'none' });
    expect(b.next(3, 0)).toBe(120_000);
  });

  it.each([
    [{ multiplier: 0.5 }, 'Expected `backoff.multiplier` to be a number >= 1, got 0.5'],
    [{ initial: '2s', max: '1s' }, 'Expected `backoff.initial` to be <= `backoff.max` (1000ms), got "2s"'],
    [{ initial: 'soon' }, 'Expected `backoff.initial` to be a duration'],
    [{ max: -5 }, 'Expected `backoff.max` to be a duration'],
    [
      { jitter: 'some' },
      'Expected `backoff.jitter` to be one of "full", "equal", "decorrelated", "none", got "some"',
    ],
    [{ random: 3 }, 'Expected `backoff.random` to be a function'],
  ])('rejects %j with CONFIG_INVALID naming the field', (opts, message) => {
    expect(() => backoff.exponential(opts as never)).toThrowError(message);
    expect(() => backoff.exponential(opts as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('backoff.fixed and backoff.custom', () => {
  it('fixed returns the same delay', () => {
    const b = backoff.fixed('250ms');
    expect([1, 2, 10].map((n) => b.next(n, 0))).toEqual([250, 250, 250]);
    expect(() => backoff.fixed('x')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('custom passes attempt and previous delay', () => {
    const calls: [number, number][] = [];
    const b = backoff.custom((attempt, prev) => {
      calls.push([attempt, prev]);
      return prev + attempt * 10;
    });
    expect(b.next(1, 0)).toBe(10);
    expect(b.next(2, 10)).toBe(30);
    expect(calls).toEqual([
      [1, 0],
      [2, 10],
    ]);
  });

  it('custom rejects a non-function and a bad result', () => {
    expect(() => backoff.custom(5 as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => backoff.custom(() => Number.NaN).next(1, 0)).toThrowError(/return a number of ms >= 0/);
    expect(() => backoff.custom(() => -1).next(1, 0)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('toBackoff', () => {
  const exact = (b: Backoff, n = 4) => Array.from({ length: n }, (_, i) => b.next(i + 1, 0));

  it('accepts the seed shapes', () => {
    const exp = toBackoff('exponential');
    for (const d of exact(exp)) expect(d).toBeLessThanOrEqual(60_000);
    expect(exact(toBackoff('fixed'))).toEqual([1000, 1000, 1000, 1000]);
    expect(exact(toBackoff(300))).toEqual([300, 300, 300, 300]);
    expect(exact(toBackoff('2s'))).toEqual([2000, 2000, 2000, 2000]);
    expect(exact(toBackoff({ initial: '1s', max: '5s', multiplier: 3, jitter: 'none' }))).toEqual([
      1000, 3000, 5000, 5000,
    ]);
    expect(exact(toBackoff({ type: 'fixed', delay: '40ms' }))).toEqual([40, 40, 40, 40]);
    expect(exact(toBackoff((attempt) => attempt))).toEqual([1, 2, 3, 4]);
    const own: Backoff = { next: () => 7 };
    expect(toBackoff(own)).toBe(own);
  });

  it('uses full jitter for an object without jitter', () => {
    const b = toBackoff({ initial: 1000, max: 1000 });
    const values = new Set(Array.from({ length: 20 }, () => b.next(1, 0)));
    expect(values.size).toBeGreaterThan(1);
    for (const v of values) expect(v).toBeLessThanOrEqual(1000);
  });

  it('names the field for bad specs', () => {
    expect(() => toBackoff('linear' as never, 'supervision.backoff')).toThrowError(
      'Expected `supervision.backoff` to be a duration',
    );
    expect(() => toBackoff({ multiplier: 0 }, 'supervision.backoff')).toThrowError(
      'Expected `supervision.backoff.multiplier` to be a number >= 1, got 0',
    );
    expect(() => toBackoff({ type: 'linear' } as never)).toThrowError('Expected `backoff.type`');
    expect(() => toBackoff(true as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
