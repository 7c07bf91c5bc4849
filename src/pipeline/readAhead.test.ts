// Tests that async sources are read ahead up to `maxInFlight`, in order, under backpressure.
import { describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../core/ManualClock.ts';
import { stream } from './stream.ts';

interface Deferred<V> {
  readonly promise: Promise<V>;
  resolve(v: V): void;
  reject(e: unknown): void;
}

function deferred<V>(): Deferred<V> {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An async source whose every `next()` is answered by the test (a cursor or socket with latency). */
function manualSource() {
  const pulls: Deferred<IteratorResult<number>>[] = [];
  let returned = false;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const d = deferred<IteratorResult<number>>();
        pulls.push(d);
        return d.promise;
      },
      return: async () => {
        returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return { source, pulls, wasReturned: () => returned };
}

describe('async sources are read ahead', () => {
  it('asks for the next items while earlier ones are still being processed, up to maxInFlight', async () => {
    const { source, pulls } = manualSource();
    const running = new Map<number, Deferred<void>>();
    const run = stream(source)
      .concurrent({ maxWorkers: 4, maxInFlight: 4 })
      .process((n) => {
        const d = deferred<void>();
        running.set(n, d);
        return d.promise;
      })
      .start();
    await flushMicrotasks(10);
    // Four pulls outstanding before any answered (one at a time would be 1).
    expect(pulls.length).toBe(4);
    pulls[0]!.resolve({ value: 0, done: false });
    pulls[1]!.resolve({ value: 1, done: false });
    await flushMicrotasks(10);
    expect([...running.keys()]).toEqual([0, 1]);
    // Two in flight + two pulls outstanding: the bound holds, no fifth pull yet (backpressure).
    expect(pulls.length).toBe(4);
    expect(run.inFlight).toBe(2);
    running.get(0)!.resolve();
    await flushMicrotasks(10);
    // Item 1 still runs, yet the freed slot is used for a new pull right away.
    expect(pulls.length).toBe(5);
    for (let i = 2; i < 5; i++) pulls[i]!.resolve({ value: i, done: false });
    await flushMicrotasks(10);
    expect([...running.keys()]).toEqual([0, 1, 2, 3, 4]);
    for (const d of running.values()) d.resolve();
    await flushMicrotasks(10);
    for (const p of pulls.slice(5)) p.resolve({ value: undefined, done: true });
    const report = await run.done;
    expect(report.total).toBe(5);
    expect(report.ok).toBe(5);
  });

  it('admits items in the order they were asked for, even when answers arrive out of order', async () => {
    const { source, pulls } = manualSource();
    const seen: Array<{ n: number; seq: number }> = [];
    const run = stream(source)
      .concurrent({ maxWorkers: 1, maxInFlight: 3 })
      .process((n, ctx) => {
        seen.push({ n, seq: ctx.seq });
      })
      .start();
    await flushMicrotasks(10);
    expect(pulls.length).toBe(3);
    pulls[2]!.resolve({ value: 30, done: false });
    pulls[1]!.resolve({ value: 20, done: false });
    await flushMicrotasks(10);
    expect(seen).toEqual([]); // the first answer is still missing
    pulls[0]!.resolve({ value: 10, done: false });
    await flushMicrotasks(10);
    expect(seen).toEqual([
      { n: 10, seq: 0 },
      { n: 20, seq: 1 },
      { n: 30, seq: 2 },
    ]);
    for (const p of pulls.slice(3)) p.resolve({ value: undefined, done: true });
    expect((await run.done).total).toBe(3);
  });

  it('never holds more than maxInFlight items taken or asked for, over a long async generator', async () => {
    let produced = 0;
    let maxAhead = 0;
    let finished = 0;
    async function* source() {
      for (let i = 0; i < 2_000; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - finished);
        yield i;
      }
    }
    const report = await stream(source())
      .partitionBy((n) => n % 7)
      .concurrent({ maxWorkers: 3, maxInFlight: 8 })
      .process(async () => {
        await new Promise<void>((r) => setImmediate(r));
        finished++;
      })
      .run();
    expect(report.ok).toBe(2_000);
    expect(maxAhead).toBeLessThanOrEqual(8);
    expect(report.peakInFlight).toBeLessThanOrEqual(8);
  });

  it('fails the run with SOURCE_FAILED when a read-ahead pull rejects, and closes the source', async () => {
    const { source, pulls, wasReturned } = manualSource();
    const run = stream(source)
      .concurrent({ maxWorkers: 2, maxInFlight: 4 })
      .process(() => {})
      .start();
    await flushMicrotasks(10);
    pulls[0]!.resolve({ value: 1, done: false });
    pulls[1]!.reject(new Error('cursor lost'));
    await expect(run.done).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    expect(wasReturned()).toBe(true);
  });
});
