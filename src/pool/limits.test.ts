// Pool limiter options: rateLimit, concurrencyLimit and perKey on mapConcurrent, mapConcurrentStream and runBatch.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { RateLimitedError } from '../core/rateLimited.ts';
import { concurrencyLimit, rateLimit } from '../flow/rateLimit.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import { mapConcurrentStream } from './mapConcurrentStream.ts';
import { runBatch } from './runBatch.ts';

/** Tracks how many calls run at once, overall and per key. */
function inFlight() {
  let now = 0;
  let max = 0;
  const perKey = new Map<string, number>();
  const maxPerKey = new Map<string, number>();
  return {
    enter(key = '') {
      now++;
      max = Math.max(max, now);
      const k = (perKey.get(key) ?? 0) + 1;
      perKey.set(key, k);
      maxPerKey.set(key, Math.max(maxPerKey.get(key) ?? 0, k));
    },
    leave(key = '') {
      now--;
      perKey.set(key, (perKey.get(key) ?? 0) - 1);
    },
    get max() {
      return max;
    },
    maxOf: (key: string) => maxPerKey.get(key) ?? 0,
  };
}

describe('pool: rateLimit', () => {
  it('spaces calls by the rate (options made into a limiter for the call)', async () => {
    const clock = new ManualClock(1_000);
    const starts: number[] = [];
    const items = Array.from({ length: 21 }, (_, i) => i);
    const results = await clock.runUntil(
      mapConcurrent(
        items,
        (x) => {
          starts.push(clock.now());
          return x;
        },
        { concurrency: 8, clock, rateLimit: { rate: 10, per: '1s', clock } },
      ),
    );
    expect(results.every((r) => r.status === 'ok' && r.attempts === 1)).toBe(true);
    expect(starts).toHaveLength(21);
    const sorted = [...starts].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(sorted[20]! - sorted[0]!).toBe(2_000);
  });

  it('a limiter instance is shared by two concurrent batches', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 5, per: '1s', clock });
    const starts: number[] = [];
    const fn = () => {
      starts.push(clock.now());
    };
    const both = Promise.all([
      mapConcurrent([1, 2, 3, 4, 5], fn, { concurrency: 5, clock, rateLimit: lim }),
      mapConcurrent([6, 7, 8, 9, 10], fn, { concurrency: 5, clock, rateLimit: lim }),
    ]);
    await clock.runUntil(both);
    expect(starts.sort((a, b) => a - b)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
    expect(lim.state).toBe('open');
  });

  it('a keyed rateLimit gives each key its own bucket', async () => {
    const clock = new ManualClock();
    const starts = new Map<string, number[]>();
    const items = ['a', 'b', 'a', 'b', 'a', 'b'].map((tenant, i) => ({ tenant, i }));
    await clock.runUntil(
      mapConcurrent(
        items,
        (o) => {
          starts.set(o.tenant, [...(starts.get(o.tenant) ?? []), clock.now()]);
        },
        { concurrency: 6, clock, rateLimit: { rate: 1, per: '1s', clock, key: (o) => o.tenant } },
      ),
    );
    expect(starts.get('a')).toEqual([0, 1000, 2000]);
    expect(starts.get('b')).toEqual([0, 1000, 2000]);
  });

  it('works through mapConcurrentStream and runBatch', async () => {
    const clock = new ManualClock();
    const out: number[] = [];
    const stream = mapConcurrentStream([1, 2, 3], (x) => x * 2, {
      concurrency: 3,
      clock,
      rateLimit: { rate: 2, per: '1s', clock },
    });
    const consume = (async () => {
      for await (const r of stream) if (r.status === 'ok') out.push(r.value);
    })();
    await clock.runUntil(consume);
    expect(out).toEqual([2, 4, 6]);
    expect(clock.now()).toBe(1_000);
    const report = await clock.runUntil(
      runBatch([1, 2, 3, 4], (x) => x, { concurrency: 4, clock, rateLimit: { rate: 4, per: '1s', clock } }),
    );
    expect(report.ok).toBe(4);
    expect(report.durationMs).toBe(750);
  });
});

describe('pool: concurrencyLimit and perKey.concurrency', () => {
  it('a shared concurrencyLimit caps items across two batches', async () => {
    const clock = new ManualClock();
    const cap = concurrencyLimit({ max: 3, clock });
    const f = inFlight();
    const fn = async () => {
      f.enter();
      await clock.sleep(10);
      f.leave();
    };
    const items = Array.from({ length: 12 }, (_, i) => i);
    await clock.runUntil(
      Promise.all([
        mapConcurrent(items, fn, { concurrency: 4, clock, concurrencyLimit: cap }),
        mapConcurrent(items, fn, { concurrency: 4, clock, concurrencyLimit: cap }),
      ]),
    );
    expect(f.max).toBe(3);
    expect(clock.now()).toBe(80);
    expect(cap.stats().held).toBe(0);
  });

  it('perKey.concurrency bounds each key while other keys go on', async () => {
    const clock = new ManualClock();
    const f = inFlight();
    const items = Array.from({ length: 30 }, (_, i) => ({ key: i % 3 === 0 ? 'hot' : `k${i}`, i }));
    const results = await clock.runUntil(
      mapConcurrent(
        items,
        async (o) => {
          f.enter(o.key);
          await clock.sleep(10);
          f.leave(o.key);
          return o.i;
        },
        { concurrency: 8, clock, perKey: { key: (o) => o.key, concurrency: 2 } },
      ),
    );
    expect(results.map((r) => (r.status === 'ok' ? r.value : -1))).toEqual(items.map((o) => o.i));
    expect(f.maxOf('hot')).toBe(2);
    expect(f.max).toBe(8);
  });

  it('perKey.concurrency 1 runs the items of a key one at a time, in input order', async () => {
    const clock = new ManualClock();
    const order: number[] = [];
    const items = Array.from({ length: 10 }, (_, i) => i);
    await clock.runUntil(
      mapConcurrent(
        items,
        async (i) => {
          order.push(i);
          await clock.sleep(10 - i);
        },
        { concurrency: 4, clock, perKey: { key: () => 'one', concurrency: 1 } },
      ),
    );
    expect(order).toEqual(items);
  });
});

describe('pool: pause on 429', () => {
  it('a RateLimitedError parks its key without counting a failed attempt; other keys go on', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    let refused = false;
    const items = [
      { key: 'a', n: 1 },
      { key: 'b', n: 2 },
      { key: 'b', n: 3 },
      { key: 'b', n: 4 },
      { key: 'a', n: 5 },
    ];
    const results = await clock.runUntil(
      mapConcurrent(
        items,
        async (o, ctx) => {
          calls.push(`${o.key}${o.n}@${clock.now()}#${ctx.attempt}`);
          if (o.n === 1 && !refused) {
            refused = true;
            throw new RateLimitedError({ retryAfter: '2s' });
          }
          await clock.sleep(1);
          return o.n;
        },
        {
          concurrency: 3,
          clock,
          retry: { attempts: 1 },
          perKey: { key: (o) => o.key, rateLimit: { rate: 100, per: '1s', burst: 10, clock } },
        },
      ),
    );
    expect(results.map((r) => [r.status, r.attempts])).toEqual(items.map(() => ['ok', 1]));
    // Key b goes on at once; a5, taken after the refusal, waits for the park like the retry of a1.
    expect(calls.slice(0, 4)).toEqual(['a1@0#1', 'b2@0#1', 'b3@0#1', 'b4@1#1']);
    expect(calls.slice(4).sort()).toEqual(['a1@2000#1', 'a5@2000#1']);
  });

  it('ctx.pause(ms) parks the whole rate limiter of the batch (no key) for every lane', async () => {
    const clock = new ManualClock();
    const starts: number[] = [];
    let paused = false;
    const results = await clock.runUntil(
      mapConcurrent(
        [0, 1, 2, 3],
        async (i, ctx) => {
          starts.push(clock.now());
          if (i === 0 && !paused) {
            paused = true;
            ctx.pause(500);
          }
          await clock.sleep(1);
          return i;
        },
        { concurrency: 2, clock, rateLimit: { rate: 1000, per: '1s', burst: 10, clock } },
      ),
    );
    expect(results.every((r) => r.status === 'ok' && r.attempts === 1)).toBe(true);
    // Item 1 started with item 0; after the pause no item starts before 500.
    expect(starts.slice(0, 2)).toEqual([0, 0]);
    expect(Math.min(...starts.slice(2))).toBeGreaterThanOrEqual(500);
  });

  it('without limiters a RateLimitedError still waits and calls again, not counted as a failure', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const results = await clock.runUntil(
      mapConcurrent(
        [1],
        () => {
          calls++;
          if (calls < 3) throw new RateLimitedError({ retryAfter: 100 });
          return 'done';
        },
        { clock },
      ),
    );
    expect(results[0]).toMatchObject({ status: 'ok', value: 'done', attempts: 1 });
    expect(calls).toBe(3);
    expect(clock.now()).toBe(200);
  });
});

describe('pool: limiter option validation', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['rateLimit.rate', { rateLimit: { rate: 0 } }, 'Expected `rateLimit.rate` to be'],
    ['rateLimit.per', { rateLimit: { rate: 1, per: 'often' } }, 'Expected `rateLimit.per` to be'],
    ['rateLimit.burst', { rateLimit: { rate: 1, burst: 0 } }, 'Expected `rateLimit.burst` to be'],
    ['concurrencyLimit.max', { concurrencyLimit: { max: 0 } }, 'Expected `concurrencyLimit.max` to be'],
    ['perKey.key', { perKey: { concurrency: 2 } }, 'Expected `perKey.key` to be'],
    [
      'perKey.concurrency',
      { perKey: { key: String, concurrency: 0 } },
      'Expected `perKey.concurrency` to be',
    ],
    [
      'perKey.rateLimit.rate',
      { perKey: { key: String, rateLimit: { rate: -1 } } },
      'Expected `perKey.rateLimit.rate`',
    ],
    ['perKey', { perKey: { key: String } }, 'Expected `perKey` to be'],
    [
      'rateLimit (a concurrency limiter)',
      { rateLimit: concurrencyLimit({ max: 1 }) },
      'Expected `rateLimit` to be',
    ],
  ];
  for (const [name, opts, message] of cases) {
    it(`rejects a bad ${name} with CONFIG_INVALID naming it`, async () => {
      const p = mapConcurrent([1], (x) => x, opts);
      await expect(p).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(p).rejects.toThrow(message);
    });
  }

  it('a key function returning something else than a string or number fails the item', async () => {
    const results = await mapConcurrent([{ k: {} }], (x) => x, {
      perKey: { key: (o) => o.k as unknown as string, concurrency: 1 },
    });
    expect(results[0]).toMatchObject({ status: 'error', error: { code: 'CONFIG_INVALID' } });
  });
});

describe('pool: many lanes waiting on a limiter', () => {
  it('16 lanes waiting on the run signal at once raise no listener-leak warning', async () => {
    const clock = new ManualClock();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const items = Array.from({ length: 64 }, (_, i) => i);
      await clock.runUntil(
        mapConcurrent(items, (x) => x, { concurrency: 16, clock, rateLimit: { rate: 100, clock } }),
      );
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});

describe('pool: gated inline attempts', () => {
  it('an attempt admitted at once that fails gives its slot back; the retry asks again', async () => {
    const clock = new ManualClock();
    const cap = concurrencyLimit({ max: 1, clock });
    const f = inFlight();
    const log: string[] = [];
    const results = await clock.runUntil(
      mapConcurrent(
        [1, 2, 3],
        async (x, ctx) => {
          f.enter();
          log.push(`${x}#${ctx.attempt}@${clock.now()}`);
          await clock.sleep(5);
          f.leave();
          if (x === 1 && ctx.attempt === 1) throw new Error('flaky');
          return x;
        },
        { concurrency: 3, clock, concurrencyLimit: cap, retry: { attempts: 2, backoff: { next: () => 1 } } },
      ),
    );
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['ok', 2],
      ['ok', 1],
      ['ok', 1],
    ]);
    expect(f.max).toBe(1);
    expect(cap.stats().held).toBe(0);
    // Item 1's slot came back when its first attempt failed: item 2 ran before its retry.
    expect(log[0]).toBe('1#1@0');
    expect(log[1]).toBe('2#1@5');
  });

  it('a synchronous function under a limiter that admits at once: one grant per item, every item done', async () => {
    const lim = rateLimit({ rate: 1e9, burst: 1e6 });
    const results = await mapConcurrent(
      Array.from({ length: 5000 }, (_, i) => i),
      (x) => x * 2,
      { concurrency: 4, rateLimit: lim },
    );
    expect(results.every((r, i) => r.status === 'ok' && r.value === i * 2)).toBe(true);
    expect(lim.stats().granted).toBe(5000);
  });
});
