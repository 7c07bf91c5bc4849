// Tests of pipeline flow control: per-key order under retries and parks, per-key concurrency, non-blocking retries, limiters.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { RateLimitedError } from '../core/rateLimited.ts';
import { rateLimit } from '../flow/rateLimit.ts';
import { stream } from './stream.ts';

type Item = { key: string; n: number };
const itemsOf = (n: number, keys: number): Item[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i % keys}`, n: i }));

describe('per-key order (perKey.concurrency 1)', () => {
  it('holds under retries, rate-limit parks and ctx.pause, while other keys flow during a park', async () => {
    const clock = new ManualClock();
    const calls = new Map<number, number>();
    const done = new Map<string, number[]>();
    const starts: { key: string; n: number; at: number }[] = [];
    const pausedUntil = new Map<string, number>();
    let running = 0;
    const p = stream(itemsOf(210, 7), { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 3, concurrencyPerWorker: 3, retry: { attempts: 3, backoff: 50 } })
      .process(async (o, ctx) => {
        starts.push({ key: o.key, n: o.n, at: clock.now() });
        running++;
        await clock.sleep(1 + (o.n % 5));
        running--;
        const call = (calls.get(o.n) ?? 0) + 1;
        calls.set(o.n, call);
        if (o.n % 11 === 0 && call === 1) throw new Error('flaky');
        if (o.n % 13 === 0 && call <= 2) throw new RateLimitedError({ retryAfter: 200 });
        if (o.n % 17 === 0 && call === 1) {
          ctx.pause(300);
          pausedUntil.set(`${o.key}:${o.n}`, clock.now() + 300);
        }
        const list = done.get(o.key) ?? [];
        list.push(o.n);
        done.set(o.key, list);
        return o.n;
      })
      .collect();
    const { results, errors, report } = await clock.runUntil(p);
    expect(errors).toEqual([]);
    expect(results).toHaveLength(210);
    for (const [key, ns] of done) {
      expect(ns, key).toEqual([...ns].sort((a, b) => a - b));
      expect(ns).toHaveLength(30);
    }
    // A rate-limited attempt is not a failed one: only the `flaky` errors count as retries.
    expect(report.retries).toBe(itemsOf(210, 7).filter((o) => o.n % 11 === 0).length);
    // After ctx.pause(300), nothing of that key starts before the park ends; other keys do.
    for (const [at, until] of pausedUntil) {
      const [key, n] = at.split(':') as [string, string];
      const later = starts.filter((s) => s.key === key && s.n > Number(n));
      for (const s of later) expect(s.at).toBeGreaterThanOrEqual(until);
      const from = until - 300;
      const others = starts.filter((s) => s.key !== key && s.at >= from && s.at < until);
      expect(others.length).toBeGreaterThan(0);
    }
    expect(running).toBe(0);
  });

  it('a key parked by RateLimitedError holds only its key, and runs again under the same attempt number', async () => {
    const clock = new ManualClock();
    const attemptsSeen: number[] = [];
    const finished: string[] = [];
    let first = true;
    const items = [{ key: 'a', n: 0 }, ...Array.from({ length: 5 }, (_, i) => ({ key: 'b', n: i + 1 }))];
    const run = stream(items, { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1, retry: { attempts: 1 } })
      .process(async (o, ctx) => {
        if (o.key === 'a') {
          attemptsSeen.push(ctx.attempt);
          if (first) {
            first = false;
            throw new RateLimitedError({ retryAfter: '10s' });
          }
        }
        await clock.sleep(10);
        finished.push(`${o.key}${o.n}`);
      })
      .collect();
    await clock.advance(1000);
    expect(finished).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
    await clock.advance(8_990);
    expect(finished).not.toContain('a0');
    const { errors, report } = await clock.runUntil(run);
    expect(errors).toEqual([]);
    expect(finished.at(-1)).toBe('a0');
    expect(attemptsSeen).toEqual([1, 1]);
    expect(report.retries).toBe(0);
    expect(clock.now()).toBeGreaterThanOrEqual(10_000);
  });
});

describe('perKey.concurrency > 1', () => {
  it('runs up to that many items of one key at once, never more', async () => {
    for (const limit of [1, 3]) {
      const clock = new ManualClock();
      let running = 0;
      let peak = 0;
      const p = stream(itemsOf(30, 1), { clock })
        .partitionBy((o) => o.key)
        .concurrent({ maxWorkers: 1, concurrencyPerWorker: 10, perKey: { concurrency: limit } })
        .process(async () => {
          running++;
          peak = Math.max(peak, running);
          await clock.sleep(10);
          running--;
        })
        .run();
      const report = await clock.runUntil(p);
      expect(report.ok).toBe(30);
      expect(peak).toBe(limit);
      expect(clock.now()).toBe((30 / limit) * 10);
    }
  });

  it('is bounded by concurrencyPerWorker too, and two keys share the slots in turns', async () => {
    const clock = new ManualClock();
    const running = new Map<string, number>();
    let total = 0;
    let peakTotal = 0;
    let peakKey = 0;
    const p = stream(itemsOf(60, 2), { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1, concurrencyPerWorker: 4, perKey: { concurrency: 3 } })
      .process(async (o) => {
        running.set(o.key, (running.get(o.key) ?? 0) + 1);
        total++;
        peakTotal = Math.max(peakTotal, total);
        peakKey = Math.max(peakKey, running.get(o.key)!);
        await clock.sleep(10);
        total--;
        running.set(o.key, running.get(o.key)! - 1);
      })
      .run();
    expect((await clock.runUntil(p)).ok).toBe(60);
    expect(peakTotal).toBe(4);
    // Turns alternate between the two keys: each holds half of the 4 slots, below its limit of 3.
    expect(peakKey).toBe(2);
  });
});

describe('non-blocking retries', () => {
  const failFirst = (clock: ManualClock, bad: number, finished: number[]) => {
    let failed = false;
    return async (o: Item) => {
      await clock.sleep(10);
      if (o.n === bad && !failed) {
        failed = true;
        throw new Error('transient');
      }
      finished.push(o.n);
    };
  };

  it('without a key: the failed item backs off 10 s while the others flow on the same worker', async () => {
    const clock = new ManualClock();
    const finished: number[] = [];
    const p = stream(itemsOf(21, 21), { clock })
      .concurrent({ maxWorkers: 1, retry: { attempts: 2, backoff: '10s' } })
      .process(failFirst(clock, 0, finished))
      .collect();
    await clock.advance(1000);
    expect(finished).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await clock.advance(8_900);
    expect(finished).not.toContain(0);
    const { errors, report } = await clock.runUntil(p);
    expect(errors).toEqual([]);
    expect(finished.at(-1)).toBe(0);
    expect(report.retries).toBe(1);
  });

  it('perKey.concurrency > 1: other items of the same key keep flowing during the backoff', async () => {
    const clock = new ManualClock();
    const finished: number[] = [];
    const p = stream(itemsOf(21, 1), { clock })
      .partitionBy((o) => o.key)
      .concurrent({
        maxWorkers: 1,
        concurrencyPerWorker: 2,
        perKey: { concurrency: 2 },
        retry: { attempts: 2, backoff: '10s' },
      })
      .process(failFirst(clock, 0, finished))
      .collect();
    await clock.advance(1000);
    expect(finished).toHaveLength(20);
    expect(finished).not.toContain(0);
    const { errors } = await clock.runUntil(p);
    expect(errors).toEqual([]);
    expect(finished.at(-1)).toBe(0);
    expect(clock.now()).toBeGreaterThanOrEqual(10_000);
  });

  it('ordered keys retry in place: only the failing key waits, in order', async () => {
    const clock = new ManualClock();
    const finished: number[] = [];
    const p = stream(itemsOf(20, 2), { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1, retry: { attempts: 2, backoff: '10s' } })
      .process(failFirst(clock, 0, finished))
      .collect();
    await clock.advance(1000);
    // k1 (odd numbers) all done; k0 waits behind its retrying head.
    expect(finished).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    await clock.runUntil(p);
    expect(finished.slice(10)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });
});

describe('limiters in a stage', () => {
  it('perKey.rateLimit spaces the items of each key without holding the other keys', async () => {
    const clock = new ManualClock();
    const starts = new Map<string, number[]>();
    const p = stream(itemsOf(20, 2), { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1, concurrencyPerWorker: 2, perKey: { rateLimit: { rate: 10, per: '1s' } } })
      .process((o) => {
        const list = starts.get(o.key) ?? [];
        list.push(clock.now());
        starts.set(o.key, list);
      })
      .run();
    expect((await clock.runUntil(p)).ok).toBe(20);
    for (const [, at] of starts) {
      expect(at).toHaveLength(10);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(100);
      // Both keys run side by side: 10 items at 10/s take 0.9 s, not 1.9 s.
      expect(at.at(-1)).toBeLessThanOrEqual(1000);
    }
  });

  it('a stage rateLimit bounds the whole stage; workers take it in turns, each in priority order', async () => {
    const clock = new ManualClock();
    const limiter = rateLimit({ rate: 5, per: '1s', clock });
    const starts: { at: number; workerId: number; prio: number }[] = [];
    const items = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, n: i, prio: i % 3 }));
    const p = stream(items, { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 2, concurrencyPerWorker: 4, rateLimit: limiter, priority: (o) => o.prio })
      .process((o, ctx) => {
        starts.push({ at: clock.now(), workerId: ctx.workerId, prio: o.prio });
      })
      .run();
    expect((await clock.runUntil(p)).ok).toBe(12);
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]!.at - starts[i - 1]!.at).toBeGreaterThanOrEqual(200);
    for (const id of [0, 1]) {
      // The first two starts were picked while the items were still being admitted (the first
      // grant is immediate; the next item asked before the others arrived). From then on each
      // worker starts its keys by priority.
      const mine = starts.slice(2).filter((s) => s.workerId === id);
      expect(mine.length).toBeGreaterThan(0);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.prio).toBeLessThanOrEqual(mine[i - 1]!.prio);
    }
    // Turns alternate: neither worker waits until the other has nothing left.
    const firstHalf = starts.slice(0, 6).map((s) => s.workerId);
    expect(new Set(firstHalf).size).toBe(2);
    expect(limiter.state).toBe('open');
  });

  it('ctx.pause with scope stage holds every key', async () => {
    const clock = new ManualClock();
    const starts: number[] = [];
    let paused = false;
    const p = stream(itemsOf(6, 6), { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 2 })
      .process((o, ctx) => {
        starts.push(clock.now());
        if (o.n === 0 && !paused) {
          paused = true;
          ctx.pause('5s', { scope: 'stage' });
        }
      })
      .run();
    expect((await clock.runUntil(p)).ok).toBe(6);
    const early = starts.filter((t) => t < 5000);
    // The item that paused (and at most one already started on the other worker) ran before.
    expect(early.length).toBeLessThanOrEqual(2);
    expect(starts.filter((t) => t >= 5000).length).toBeGreaterThanOrEqual(4);
  });
});

describe('stopping with parked keys and waiting permits', () => {
  it('ends the run; parked items and items waiting for a permit are counted cancelled', async () => {
    const clock = new ManualClock();
    const items = [
      { key: 'parked', n: 0 },
      { key: 'limited', n: 1 },
      { key: 'limited', n: 2 },
    ];
    let refused = false;
    const ac = new AbortController();
    const run = stream(items, { clock })
      .partitionBy((o) => o.key)
      .concurrent({
        maxWorkers: 1,
        concurrencyPerWorker: 2,
        perKey: { rateLimit: { rate: 1, per: '1h' } },
      })
      .process((o) => {
        if (o.key === 'parked' && !refused) {
          refused = true;
          throw new RateLimitedError({ retryAfter: '1h' });
        }
      })
      .run({ signal: ac.signal });
    await clock.advance(1000);
    ac.abort();
    const report = await clock.runUntil(run);
    expect(report.ok).toBe(1); // `limited` n=1 got the bucket's first token
    expect(report.cancelled).toBe(2);
    expect(clock.now()).toBeLessThan(60_000);
  });
});

describe('parked events', () => {
  it('say what was parked, until when and why', async () => {
    const clock = new ManualClock();
    const seen: unknown[] = [];
    const run = stream(itemsOf(3, 3), { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1 })
      .process((o, ctx) => {
        if (o.n === 0 && ctx.attempt === 1 && clock.now() === 0)
          throw new RateLimitedError({ retryAfter: 500 });
        if (o.n === 1) ctx.pause(200);
        if (o.n === 2) ctx.pause(300, { scope: 'stage' });
      })
      .start();
    run.on('parked', (info) => seen.push(info));
    await clock.runUntil(run.done);
    expect(seen).toEqual([
      { scope: 'key', key: 'k0', workerId: 0, until: 500, reason: 'rate_limited' },
      { scope: 'key', key: 'k1', workerId: 0, until: 200, reason: 'paused' },
      { scope: 'stage', key: undefined, workerId: 0, until: 300, reason: 'paused' },
    ]);
  });
});

describe('a shared per-key limiter', () => {
  it('a key parked by one pipeline waits in another that shares the limiter by name and backend', async () => {
    const { createMemoryBackend } = await import('../backend/memory/index.ts');
    const backend = createMemoryBackend();
    const clock = new ManualClock();
    const shared = () => rateLimit({ rate: 1000, per: '1s', backend, name: 'flowpipe-shared-park', clock });
    const [la, lb] = [shared(), shared()];
    const a = stream([{ key: 'x', n: 0 }], { clock })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1, perKey: { rateLimit: la } })
      .process((_o, ctx) => {
        if (ctx.attempt === 1 && clock.now() === 0) throw new RateLimitedError({ retryAfter: '5s' });
      })
      .run();
    await clock.advance(10);
    const startsB: string[] = [];
    const b = stream(
      [
        { key: 'x', n: 1 },
        { key: 'y', n: 2 },
      ],
      { clock },
    )
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 1, concurrencyPerWorker: 2, perKey: { rateLimit: lb } })
      .process((o) => {
        startsB.push(`${o.key}@${clock.now()}`);
      })
      .run();
    await clock.advance(1000);
    expect(startsB).toEqual(['y@10']);
    await clock.runUntil(Promise.all([a, b]));
    expect(startsB[1]).toMatch(/^x@/);
    expect(Number(startsB[1]!.slice(2))).toBeGreaterThanOrEqual(5000);
    await Promise.all([la.close(), lb.close()]);
    await backend.close();
  });
});
