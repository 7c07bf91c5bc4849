// Tests that topic pipelines route events by key (per-key lanes inside a partition) and commit only safe offsets.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { flushMicrotasks } from '../core/ManualClock.ts';
import { stream } from './stream.ts';

async function topic(partitions: number, events: Array<{ key: string; n: number }>) {
  const backend = createMemoryBackend();
  await backend.ensureTopic('orders', { partitions });
  await backend.append(
    'orders',
    events.map((e) => ({ key: e.key, payload: { n: e.n } })),
  );
  return backend;
}

describe('topic pipelines route by event key', () => {
  it('spreads an 8-partition topic evenly over 8 workers (each within 15% of the mean)', async () => {
    const events = Array.from({ length: 8_000 }, (_, n) => ({ key: `customer-${n % 1000}`, n }));
    const backend = await topic(8, events);
    const { report } = await stream({ backend, topic: 'orders', group: 'g' })
      .concurrent({ maxWorkers: 8 })
      .process(() => {})
      .collect();
    expect(report.ok).toBe(8_000);
    const mean = 8_000 / 8;
    for (const w of report.workers) {
      expect(w.processed).toBeGreaterThan(mean * 0.85);
      expect(w.processed).toBeLessThan(mean * 1.15);
    }
  });

  it('runs two keys of one partition at once on different workers, each key strictly in order', async () => {
    const events = Array.from({ length: 64 }, (_, n) => ({ key: `k${n % 16}`, n }));
    const backend = await topic(1, events);
    const gates: Array<() => void> = [];
    const running: Array<{ key: string; worker: number }> = [];
    const byKey = new Map<string, number[]>();
    let maxWorkersBusy = 0;
    const run = stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .concurrent({ maxWorkers: 4 })
      .process(async (e, ctx) => {
        const key = e.key!;
        expect(running.some((r) => r.key === key)).toBe(false);
        running.push({ key, worker: ctx.workerId });
        maxWorkersBusy = Math.max(maxWorkersBusy, new Set(running.map((r) => r.worker)).size);
        await new Promise<void>((r) => gates.push(r));
        running.splice(
          running.findIndex((r) => r.key === key),
          1,
        );
        byKey.set(key, [...(byKey.get(key) ?? []), e.payload.n]);
      })
      .start();
    let settled = false;
    run.done.finally(() => (settled = true)).catch(() => {});
    while (!settled) {
      await flushMicrotasks(5);
      for (const release of gates.splice(0)) release();
      await new Promise<void>((r) => setImmediate(r));
    }
    const report = await run.done;
    expect(report.ok).toBe(64);
    // One log partition, yet several workers ran at once.
    expect(maxWorkersBusy).toBeGreaterThan(1);
    expect(report.workers.filter((w) => w.processed > 0).length).toBeGreaterThan(1);
    for (const ns of byKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
  });

  it('never commits past an unfinished event of any key of the partition', async () => {
    const events = Array.from({ length: 20 }, (_, n) => ({ key: `k${n % 5}`, n }));
    const backend = await topic(1, events);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const finished = new Set<number>();
    const run = stream<{ n: number }>({ backend, topic: 'orders', group: 'g' })
      .concurrent({ maxWorkers: 4, concurrencyPerWorker: 2 })
      .process(async (e) => {
        if (e.payload.n === 6) await gate; // key k1 blocks at offset 6; other keys go on
        finished.add(e.payload.n);
      })
      .checkpoint({ every: '1h' })
      .start();
    await flushMicrotasks(50);
    // Every event not of key k1 finished, and k1's events before offset 6.
    const expected = events.filter((e) => e.key !== 'k1' || e.n < 6).map((e) => e.n);
    expect([...finished].sort((a, b) => a - b)).toEqual(expected);
    await run.checkpoint();
    expect(await backend.committed('g', 'orders', 0)).toBe(6);
    release();
    await run.done;
    expect(await backend.committed('g', 'orders', 0)).toBe(20);
  });
});
