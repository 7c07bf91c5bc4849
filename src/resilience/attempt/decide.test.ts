// Unit tests of the pure retry decision and of RateLimitedError / isRateLimited.
import { describe, expect, it } from 'vitest';
import { deserializeError, SluiceError, serializeError, UnrecoverableError } from '../../core/errors.ts';
import { isRateLimited, RateLimitedError } from '../../core/rateLimited.ts';
import { backoff } from '../backoffFactories.ts';
import { attemptPolicy } from './AttemptPolicy.ts';
import { type AttemptRules, decideAttempt, defaultRetryOn } from './decide.ts';

const rules = (over: Partial<AttemptRules> = {}): AttemptRules => ({
  attempts: 3,
  backoff: backoff.exponential({ initial: 100, jitter: 'none' }),
  retryOn: defaultRetryOn,
  rateLimitDelayMs: 1000,
  ...over,
});

describe('RateLimitedError', () => {
  it('has code RATE_LIMITED, is retryable and exposes retryAfterMs (also in context)', () => {
    const e = new RateLimitedError({ retryAfter: '2s', context: { host: 'api' } });
    expect(e).toBeInstanceOf(SluiceError);
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(2000);
    expect(e.context).toEqual({ host: 'api', retryAfterMs: 2000 });
    expect(e.name).toBe('RateLimitedError');
    expect(e.message).toBe('Rate limited; retry after 2000 ms');
    expect(new RateLimitedError().retryAfterMs).toBeUndefined();
    expect(new RateLimitedError({ message: '429', cause: 'x' }).message).toBe('429');
  });

  it('rejects a bad retryAfter with CONFIG_INVALID naming it', () => {
    expect(() => new RateLimitedError({ retryAfter: 'soon' })).toThrowError(
      'Expected `retryAfter` to be a duration',
    );
  });

  it('isRateLimited checks the shape, so it works on a deserialized error', () => {
    const copy = deserializeError(serializeError(new RateLimitedError({ retryAfter: 50 })));
    expect(copy).not.toBeInstanceOf(RateLimitedError);
    expect(isRateLimited(copy)).toBe(true);
    expect(isRateLimited(new SluiceError('TIMEOUT', 't', { retryable: true }))).toBe(false);
    expect(isRateLimited({ code: 'RATE_LIMITED' })).toBe(false);
    expect(isRateLimited(null)).toBe(false);
  });
});

describe('decideAttempt', () => {
  it('retries with the backoff delay, given the attempt and the previous delay', () => {
    const seen: [number, number][] = [];
    const r = rules({
      backoff: {
        next: (a, p) => {
          seen.push([a, p]);
          return 70;
        },
      },
    });
    expect(decideAttempt(r, new Error('x'), 2, 40)).toEqual({ kind: 'retry', delayMs: 70 });
    expect(seen).toEqual([[2, 40]]);
  });

  it('gives up as exhausted on the last attempt', () => {
    expect(decideAttempt(rules(), new Error('x'), 3, 0)).toEqual({ kind: 'give_up', reason: 'exhausted' });
    expect(decideAttempt(rules({ attempts: Number.POSITIVE_INFINITY }), new Error('x'), 1e6, 0).kind).toBe(
      'retry',
    );
  });

  it('never retries an UnrecoverableError, even when retryOn says yes', () => {
    const d = decideAttempt(rules({ retryOn: () => true }), new UnrecoverableError('bad'), 1, 0);
    expect(d).toEqual({ kind: 'give_up', reason: 'unrecoverable' });
  });

  it('refuses a non-retryable SluiceError by default; a custom retryOn decides', () => {
    const fatal = new SluiceError('LEASE_LOST', 'lost', { retryable: false });
    expect(decideAttempt(rules(), fatal, 1, 0)).toEqual({ kind: 'give_up', reason: 'not_retryable' });
    expect(decideAttempt(rules({ retryOn: () => true }), fatal, 1, 0).kind).toBe('retry');
    expect(decideAttempt(rules({ retryOn: (_e, a) => a < 2 }), new Error('x'), 2, 0)).toEqual({
      kind: 'give_up',
      reason: 'not_retryable',
    });
  });

  it('a throwing retryOn counts as "not retryable"', () => {
    const r = rules({
      retryOn: () => {
        throw new Error('oops');
      },
    });
    expect(decideAttempt(r, new Error('x'), 1, 0)).toEqual({ kind: 'give_up', reason: 'not_retryable' });
  });

  it('a RateLimitedError waits its retryAfter, or the default, and is never exhausted', () => {
    const r = rules({ attempts: 1, retryOn: () => false });
    expect(decideAttempt(r, new RateLimitedError({ retryAfter: 250 }), 1, 0)).toEqual({
      kind: 'rate_limited',
      delayMs: 250,
    });
    expect(decideAttempt(r, new RateLimitedError(), 1, 0)).toEqual({ kind: 'rate_limited', delayMs: 1000 });
    const foreign = {
      name: 'SluiceError',
      message: 'm',
      code: 'RATE_LIMITED',
      retryable: true,
      context: { retryAfterMs: 30 },
    };
    expect(decideAttempt(r, foreign, 1, 0)).toEqual({ kind: 'rate_limited', delayMs: 30 });
  });

  it('clamps a negative or non-finite backoff delay to 0', () => {
    expect(decideAttempt(rules({ backoff: { next: () => -5 } }), new Error('x'), 1, 0)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
    expect(decideAttempt(rules({ backoff: { next: () => Number.NaN } }), new Error('x'), 1, 0)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
  });

  it('policy.decide is bound and uses the policy settings', () => {
    const { decide } = attemptPolicy({ attempts: 2, backoff: 10, rateLimitDelay: '3s' });
    expect(decide(new Error('x'), 1, 0)).toEqual({ kind: 'retry', delayMs: 10 });
    expect(decide(new Error('x'), 2, 10)).toEqual({ kind: 'give_up', reason: 'exhausted' });
    expect(decide(new RateLimitedError(), 2, 10)).toEqual({ kind: 'rate_limited', delayMs: 3000 });
  });

  it.each([
    [{ attempts: 0 }, 'Expected `attempt.attempts` to be an integer >= 1 or Infinity, got 0'],
    [{ timeout: 'soon' }, 'Expected `attempt.timeout` to be a duration'],
    [{ rateLimitDelay: -1 }, 'Expected `attempt.rateLimitDelay` to be a duration'],
    [{ backoff: { type: 'linear' } }, 'Expected `attempt.backoff.type` to be "exponential" or "fixed"'],
    [{ clock: {} }, 'Expected `attempt.clock` to be a Clock'],
  ])('rejects %j with CONFIG_INVALID', (opts, message) => {
    expect(() => attemptPolicy(opts as never)).toThrowError(message);
  });
});
