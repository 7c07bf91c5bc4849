// Tests of retryAfterFromResponse: Retry-After seconds and HTTP dates from 429/503 responses.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { limiterGate } from './gate.ts';
import { parseRate } from './options.ts';
import { concurrencyLimit, rateLimit } from './rateLimit.ts';
import { retryAfterFromResponse } from './retryAfter.ts';

describe('retryAfterFromResponse', () => {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));

  it('reads delay-seconds from a fetch Response of 429 or 503', () => {
    expect(retryAfterFromResponse(new Response(null, { status: 429, headers: { 'Retry-After': '3' } }))).toBe(
      3000,
    );
    expect(
      retryAfterFromResponse(new Response(null, { status: 503, headers: { 'retry-after': '1.5' } })),
    ).toBe(1500);
  });

  it('reads an HTTP-date relative to the clock; a past date gives 0', () => {
    const res = { status: 429, headers: { 'Retry-After': 'Thu, 01 Jan 2026 00:00:07 GMT' } };
    expect(retryAfterFromResponse(res, clock)).toBe(7000);
    expect(
      retryAfterFromResponse(
        { status: 503, headers: { 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' } },
        clock,
      ),
    ).toBe(0);
  });

  it('reads Node-style header records (any case, arrays) and statusCode', () => {
    expect(retryAfterFromResponse({ statusCode: 429, headers: { 'RETRY-AFTER': ['2', '9'] } })).toBe(2000);
    expect(retryAfterFromResponse({ status: 429, headers: { 'retry-after': 4 } })).toBe(4000);
  });

  it('is undefined for other statuses, missing or unreadable headers', () => {
    expect(
      retryAfterFromResponse(new Response(null, { status: 200, headers: { 'Retry-After': '3' } })),
    ).toBeUndefined();
    expect(retryAfterFromResponse(new Response(null, { status: 429 }))).toBeUndefined();
    expect(retryAfterFromResponse({ status: 429, headers: { 'retry-after': 'soon' } })).toBeUndefined();
    expect(retryAfterFromResponse({ status: 429, headers: { 'retry-after': '-1' } })).toBeUndefined();
    expect(retryAfterFromResponse({ headers: { 'retry-after': '1' } })).toBeUndefined();
  });
});

describe('parseRate', () => {
  it('parses <number>/<period>', () => {
    expect(parseRate('100/s')).toEqual({ rate: 100, per: 1000 });
    expect(parseRate('5/1m')).toEqual({ rate: 5, per: 60_000 });
    expect(parseRate('0.5/s')).toEqual({ rate: 0.5, per: 1000 });
    expect(() => parseRate('fast')).toThrow(/`rate`.*"fast"/);
    expect(() => parseRate('0/s')).toThrow(/CONFIG|rate/);
    expect(() => parseRate('3/eons')).toThrow(/`rate`/);
  });
});

describe('limiterGate', () => {
  it('takes every limiter synchronously when all grant, and releases them', async () => {
    const clock = new ManualClock();
    const rate = rateLimit({ rate: 10, burst: 2, clock });
    const conc = concurrencyLimit({ max: 1, clock });
    const gate = limiterGate([rate, conc], '');
    const release = gate({ signal: new AbortController().signal });
    expect(typeof release).toBe('function');
    expect(conc.stats().held).toBe(1);
    const second = gate({ signal: new AbortController().signal });
    expect(second).toBeInstanceOf(Promise);
    (release as (s?: { ok: true }) => void)({ ok: true });
    const r2 = await clock.runUntil(second as Promise<() => void>);
    expect(conc.stats().held).toBe(1);
    r2();
    expect(conc.stats().held).toBe(0);
    expect(rate.stats().granted).toBe(2);
  });

  it('a RATE_LIMITED failure parks the key of each rate limiter for its retryAfterMs', async () => {
    const clock = new ManualClock();
    const rate = rateLimit({ rate: 100, key: (s: string) => s, clock });
    const gate = limiterGate([rate], 'tenant');
    const release = (await gate({ signal: new AbortController().signal })) as (s: unknown) => void;
    release({ ok: false, error: { code: 'RATE_LIMITED', retryAfterMs: 2000 } });
    await Promise.resolve();
    expect(rate.parkedUntil('tenant')).toBe(2000);
    expect(rate.parkedUntil('other')).toBe(0);
  });

  it('a wait aborted by the signal gives back the permits already taken', async () => {
    const clock = new ManualClock();
    const conc = concurrencyLimit({ max: 1, clock });
    const rate = rateLimit({ rate: 1, clock });
    rate.tryAcquire();
    const ac = new AbortController();
    const p = limiterGate([conc, rate], '')({ signal: ac.signal }) as Promise<unknown>;
    expect(conc.stats().held).toBe(1);
    ac.abort();
    await expect(clock.runUntil(p)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(conc.stats().held).toBe(0);
  });
});
