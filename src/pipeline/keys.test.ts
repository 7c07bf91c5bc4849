// Tests that keys returned by `partitionBy` are checked: string or finite number, else CONFIG_INVALID.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { flushMicrotasks } from '../core/ManualClock.ts';
import { stream } from './stream.ts';

describe('partitionBy keys', () => {
  it.each([
    [{ id: 1 }, 'an object'],
    [[1], 'an array'],
    [undefined, 'undefined'],
    [null, 'null'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [true, 'a boolean'],
    [10n, 'a bigint'],
    [Symbol('k'), 'a symbol'],
  ])('fails the run with CONFIG_INVALID naming the type when a key is %s', async (bad, name) => {
    const items = [{ k: 'a' as unknown }, { k: bad }, { k: 'b' }];
    const p = stream(items)
      .partitionBy((x) => x.k as string)
      .concurrent({ maxWorkers: 2 })
      .process((x) => x.k)
      .collect();
    await expect(p).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `Expected the key returned by \`partitionBy\` to be a string or a number, got ${name}`,
    });
  });

  it('accepts strings and finite numbers; equal keys never run at the same time', async () => {
    const running = new Set<string | number>();
    let overlaps = 0;
    const { results } = await stream([1, 'a', 1, 'a', 2.5, -0, 0])
      .partitionBy((x) => x)
      .concurrent({ maxWorkers: 4, concurrencyPerWorker: 4 })
      .process(async (x, ctx) => {
        if (running.has(ctx.key)) overlaps++;
        running.add(ctx.key);
        await new Promise<void>((r) => setImmediate(r));
        running.delete(ctx.key);
        return x;
      })
      .collect();
    expect(results).toEqual([1, 'a', 1, 'a', 2.5, -0, 0]);
    expect(overlaps).toBe(0);
  });

  it('lets started items finish and commits what finished before the bad key', async () => {
    const backend = createMemoryBackend();
    await backend.ensureTopic('orders', { partitions: 1 });
    await backend.append(
      'orders',
      [0, 1, 2, 3, 4].map((n) => ({ key: `c${n}`, payload: { n, k: n === 3 ? { n } : `c${n}` } })),
    );
    const done: number[] = [];
    const signals: AbortSignal[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const run = stream<{ n: number; k: unknown }>({ backend, topic: 'orders', group: 'g' })
      .partitionBy((e) => e.payload.k as string)
      .concurrent({ maxWorkers: 4 })
      .process(async (e, ctx) => {
        signals.push(ctx.signal);
        if (e.payload.n === 2) await gate;
        done.push(e.payload.n);
      })
      .checkpoint({ every: '1h' })
      .start();
    await flushMicrotasks(20);
    release();
    await expect(run.done).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'Expected the key returned by `partitionBy` to be a string or a number, got an object',
    });
    // Item 2 was running when the bad key came: it finished, its signal untouched.
    expect(done.sort()).toEqual([0, 1, 2]);
    expect(signals.every((s) => !s.aborted)).toBe(true);
    // What finished is committed; the bad event and those after it are not.
    expect(await backend.committed('g', 'orders', 0)).toBe(3);
  });
});
