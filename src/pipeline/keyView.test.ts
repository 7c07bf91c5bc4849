// A running pipeline reports its waiting keys (parked by a rate limit or an open breaker, retrying with backoff) and its hot keys.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { RateLimitedError } from '../core/rateLimited.ts';
import { stream } from './stream.ts';

type Item = { key: string; n: number };
const items = (key: string, n: number): Item[] => Array.from({ length: n }, (_, i) => ({ key, n: i }));

describe('PipelineRun.keyView()', () => {
  it('lists a rate-limited key as parked by the limiter and a failing key as retrying, with since/until and what they block', async () => {
    const clock = new ManualClock(10_000);
    const run = stream<Item>([...items('tenant-a', 3), ...items('tenant-b', 2), ...items('tenant-c', 1)], {
      clock,
    })
      .partitionBy((o) => o.key)
      .concurrent({ maxWorkers: 2, retry: { attempts: 5, backoff: '2s' }, clock })
      .process((o) => {
        if (o.key === 'tenant-a') throw new RateLimitedError({ retryAfter: '30s' });
        if (o.key === 'tenant-b') throw new Error('upstream 500');
      })
      .start();
    await expect.poll(() => run.keyView().waiting.length).toBe(2);
    const view = run.keyView();
    expect(view.waiting.map((k) => [k.key, k.state, k.reason, k.blocked, k.until - 10_000])).toEqual([
      ['tenant-a', 'parked', 'limiter', 2, 30_000],
      ['tenant-b', 'retrying', 'backoff', 1, 2_000],
    ]);
    expect(view.waiting[1]).toMatchObject({ attempts: 1, error: 'upstream 500', since: 10_000 });
    expect(view.hot).toEqual([
      { key: 'tenant-a', items: 3 },
      { key: 'tenant-b', items: 2 },
    ]);
    // After its backoff the retrying key fails again and waits anew, one attempt further.
    clock.advance(2_000);
    await expect.poll(() => run.keyView().waiting.find((k) => k.key === 'tenant-b')?.attempts).toBe(2);
    await run.stop();
  });

  it('lists keys held by an open circuit breaker as parked by the breaker', async () => {
    const clock = new ManualClock(0);
    const run = stream<Item>(items('k', 2), { clock })
      .partitionBy((o) => o.key)
      .concurrent({
        maxWorkers: 1,
        clock,
        supervision: { circuitBreaker: { failureThreshold: 1, timeout: '1m', clock } },
        retry: { attempts: 3, backoff: '1s' },
      })
      .process(() => {
        throw new Error('down');
      })
      .start();
    await expect.poll(() => run.keyView().waiting[0]?.reason).toBe('backoff');
    clock.advance(1_000);
    await expect.poll(() => run.keyView().waiting[0]?.reason).toBe('breaker');
    expect(run.keyView().waiting[0]).toMatchObject({ key: 'k', state: 'parked', blocked: 1 });
    await run.stop();
  });
});
