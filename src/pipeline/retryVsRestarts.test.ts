// Tests that item retries (`retry`) and worker restarts (`supervision.maxRestarts`) are separate settings.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { RateLimitedError } from '../core/rateLimited.ts';
import { stream } from './stream.ts';

describe('retry and maxRestarts are separate', () => {
  it('without `retry`, a failing item runs once, whatever supervision.maxRestarts says', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = stream(['poison', 'ok'], { clock })
      .concurrent({ maxWorkers: 1, supervision: { maxRestarts: 5, backoff: 10 } })
      .process((x) => {
        calls++;
        if (x === 'poison') throw new Error('bad item');
        return x;
      })
      .collect();
    const { results, errors, report } = await clock.runUntil(p);
    expect(results).toEqual(['ok']);
    expect(errors.map((e) => [e.item, e.attempts])).toEqual([['poison', 1]]);
    expect(calls).toBe(2);
    expect(report.retries).toBe(0);
    expect(report.restarts).toBe(0);
  });

  it('`retry.attempts` governs items; supervision.maxRestarts: 0 does not limit item retries', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = stream(['poison'], { clock })
      .concurrent({
        maxWorkers: 1,
        retry: { attempts: 4, backoff: 5 },
        supervision: { maxRestarts: 0 },
      })
      .process(() => {
        calls++;
        throw new Error('bad item');
      })
      .collect();
    const { errors, report } = await clock.runUntil(p);
    expect(calls).toBe(4);
    expect(errors[0]?.attempts).toBe(4);
    expect(report.retries).toBe(3);
  });

  it('maxRestarts still limits worker restarts when `retry` allows many attempts', async () => {
    const clock = new ManualClock();
    const p = stream([1], { clock })
      .concurrent({
        maxWorkers: 1,
        retry: { attempts: 100 },
        supervision: { maxRestarts: 1, withinMs: '1m', backoff: 10 },
      })
      .process(() => {
        throw new SluiceError('WORKER_CRASHED', 'connection lost');
      })
      .run();
    await expect(clock.runUntil(p)).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
  });
});

describe('item attempts follow the shared attempt decision', () => {
  it('a RateLimitedError parks the item for its retryAfter without charging an attempt; other keys go on', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    let refusals = 0;
    const p = stream(['limited', 'other'], { clock })
      .partitionBy((x) => x)
      .concurrent({ maxWorkers: 1, concurrencyPerWorker: 2 })
      .process((x, ctx) => {
        log.push(`${x}#${ctx.attempt}@${clock.now()}`);
        if (x === 'limited' && refusals++ < 2) throw new RateLimitedError({ retryAfter: 250 });
        return x;
      })
      .collect();
    const { results, errors, report } = await clock.runUntil(p);
    expect(results).toEqual(['limited', 'other']);
    expect(errors).toEqual([]);
    // No `retry` given (one attempt), yet the refused calls did not use it up.
    expect(log).toEqual(['limited#1@0', 'other#1@0', 'limited#1@250', 'limited#1@500']);
    expect(report.retries).toBe(0);
  });

  it('does not retry a SluiceError marked not retryable (the shared default retryOn)', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = stream([1], { clock })
      .concurrent({ maxWorkers: 1, retry: { attempts: 5, backoff: 1 } })
      .process(() => {
        calls++;
        throw new SluiceError('CONFIG_INVALID', 'bad downstream configuration');
      })
      .collect();
    const { errors } = await clock.runUntil(p);
    expect(calls).toBe(1);
    expect(errors[0]?.attempts).toBe(1);
  });
});
