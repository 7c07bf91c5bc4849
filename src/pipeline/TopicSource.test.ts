// Tests topic sources: committed offsets, per-key order, safe checkpoints and dead letters.
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { stream } from './stream.ts';

async function seed(events: number, partitions = 4) {
  const clock = new ManualClock(1_000);
  const backend = createMemoryBackend({ clock });
  await backend.ensureTopic('orders', { partitions });
  await backend.append(
    'orders',
    Array.from({ length: events }, (_, i) => ({ key: `c${i % 10}`, payload: { n: i } })),
  );
  return { clock, backend };
}

describe('stream.fromTopic() with checkpoints', () => {
  it('consumes every partition from the committed offsets and commits the end', async () => {
    const { backend } = await seed(400);
    const seen: number[] = [];
    const { report } = await stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .concurrent({ maxWorkers: 3 })
      .process((e) => {
        seen.push(e.payload.n);
      })
      .checkpoint({ every: '1h' })
      .collect();
    expect(report.total).toBe(400);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(400).keys()]);
    for (let p = 0; p < 4; p++)
      expect(await backend.committed('g', 'orders', p)).toBe(await backend.endOffset('orders', p));
    // Nothing left for the group.
    const again = await stream({ backend, topic: 'orders', group: 'g' })
      .process(() => {})
      .collect();
    expect(again.report.total).toBe(0);
  });

  it('keeps per-key order of the log and gives stable idempotency keys', async () => {
    const { backend } = await seed(200);
    const byKey = new Map<string, number[]>();
    const keys = new Set<string>();
    await stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .concurrent({ maxWorkers: 4, concurrencyPerWorker: 4 })
      .process(async (e, ctx) => {
        await new Promise((r) => setImmediate(r));
        byKey.set(e.key!, [...(byKey.get(e.key!) ?? []), e.payload.n]);
        keys.add(ctx.idempotencyKey);
        expect(ctx.idempotencyKey).toBe(`g:orders:${e.partition}:${e.offset}`);
      })
      .collect();
    expect(keys.size).toBe(200);
    for (const ns of byKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
  });

  it('never commits past an unfinished event; events finished beyond it are skipped after a restart', async () => {
    const { backend } = await seed(10, 1);
    const ac = new AbortController();
    let release!: () => void;
    const firstRun: number[] = [];
    const run = stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .partitionBy((e) => e.payload.n) // every event its own key: they may finish out of order
      .concurrent({ maxWorkers: 2, concurrencyPerWorker: 5 })
      .process(async (e) => {
        if (e.payload.n === 0) await new Promise<void>((r) => (release = r));
        firstRun.push(e.payload.n);
      })
      .checkpoint({ every: '1h' })
      .start({ signal: ac.signal, drainTimeout: 0 });
    await flushMicrotasks(20);
    expect(firstRun.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await run.checkpoint();
    expect(await backend.committed('g', 'orders', 0)).toBe(0); // event 0 is not finished
    // Simulate a crash: stop without finishing event 0.
    ac.abort();
    await run.done;
    release();
    expect(await backend.committed('g', 'orders', 0)).toBe(0);

    const secondRun: number[] = [];
    const again = await stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .process((e) => {
        secondRun.push(e.payload.n);
      })
      .checkpoint()
      .collect();
    expect(secondRun).toEqual([0]);
    expect(again.report.total).toBe(1);
    expect(await backend.committed('g', 'orders', 0)).toBe(10);
  });

  it('moves past dead-lettered events once onError has stored them', async () => {
    const { backend } = await seed(20, 2);
    const { errors } = await stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .concurrent({ maxWorkers: 2 })
      .process((e) => {
        if (e.payload.n % 5 === 0) throw new Error(`bad ${e.payload.n}`);
      })
      .onError(async (error, e: LogEvent) => {
        await backend.dlq.put({
          id: `g:${e.topic}:${e.partition}:${e.offset}`,
          source: 'g',
          topic: e.topic,
          partition: e.partition,
          offset: e.offset,
          payload: e.payload,
          error: { name: error.name, message: error.message },
          attempts: 1,
        });
      })
      .checkpoint()
      .collect();
    expect(errors).toHaveLength(4);
    expect(await backend.dlq.count()).toBe(4);
    for (let p = 0; p < 2; p++)
      expect(await backend.committed('g', 'orders', p)).toBe(await backend.endOffset('orders', p));
  });

  it('checkpoints periodically on the injected clock', async () => {
    const { backend, clock } = await seed(5, 1);
    const gate: Array<() => void> = [];
    const run = stream({ backend, topic: 'orders', group: 'g' }, { clock })
      .process((e: LogEvent) => (e.offset < 3 ? undefined : new Promise<void>((r) => gate.push(r))))
      .checkpoint({ every: '100ms' })
      .start();
    await flushMicrotasks(20);
    expect(await backend.committed('g', 'orders', 0)).toBe(0);
    await clock.advance(100);
    await flushMicrotasks(10);
    expect(await backend.committed('g', 'orders', 0)).toBe(3);
    for (const g of gate) g();
    await flushMicrotasks(10);
    for (const g of gate.splice(0)) g();
    await clock.runUntil(run.done);
    expect(await backend.committed('g', 'orders', 0)).toBe(5);
  });

  it('rejects checkpoint() on a non-topic source and bad topic options', () => {
    expect(() =>
      stream([1])
        .process((n) => n)
        .checkpoint()
        .run(),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => stream.fromTopic({ backend: createMemoryBackend(), topic: '', group: 'g' })).toThrowError(
      /`source.topic`/,
    );
  });
});
