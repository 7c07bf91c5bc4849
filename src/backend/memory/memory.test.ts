// Memory backend tests: the conformance suite plus option checks and lifecycle state.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { runBackendConformance } from '../conformance/index.ts';
import { createMemoryBackend, MemoryBackend } from './MemoryBackend.ts';

runBackendConformance('memory', async ({ clock }) => ({ backend: createMemoryBackend({ clock }) }));

describe('MemoryBackend', () => {
  it('rejects an invalid clock option with CONFIG_INVALID naming the field', () => {
    expect(() => new MemoryBackend({ clock: 5 as unknown as ManualClock })).toThrow(/`MemoryBackend\.clock`/);
  });

  it('reports its lifecycle state', async () => {
    const b = createMemoryBackend({ clock: new ManualClock() });
    expect(b.state).toBe('open');
    await b.close();
    expect(b.state).toBe('closed');
  });

  it('notifies each touched partition once per append, not for deduplicated events', async () => {
    const b = createMemoryBackend({ clock: new ManualClock() });
    await b.ensureTopic('t', { partitions: 4 });
    const seen: number[] = [];
    b.watch('t', (p) => seen.push(p));
    await b.append('t', [
      { id: 'a', payload: 1, partition: 1 },
      { payload: 2, partition: 1 },
      { payload: 3, partition: 3 },
    ]);
    await Promise.resolve();
    expect(seen.sort()).toEqual([1, 3]);
    await b.append('t', [{ id: 'a', payload: 1, partition: 1 }]);
    await Promise.resolve();
    expect(seen).toHaveLength(2);
  });

  it('a throwing watcher does not break appends or other watchers', async () => {
    const b = createMemoryBackend({ clock: new ManualClock() });
    await b.ensureTopic('t', { partitions: 1 });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (e: unknown) => errors.push(e);
    try {
      const seen: number[] = [];
      b.watch('t', () => {
        throw new Error('listener bug');
      });
      b.watch('t', (p) => seen.push(p));
      await b.append('t', [{ payload: 1 }]);
      await Promise.resolve();
      expect(seen).toEqual([0]);
      expect(errors).toHaveLength(1);
    } finally {
      console.error = original;
    }
  });

  it('serves a read window deep inside a large partition', async () => {
    const b = createMemoryBackend({ clock: new ManualClock() });
    await b.ensureTopic('big', { partitions: 1 });
    const batch = Array.from({ length: 1000 }, (_, i) => ({ payload: i }));
    for (let i = 0; i < 50; i++) await b.append('big', batch);
    expect(await b.endOffset('big', 0)).toBe(50_000);
    const page = await b.read('big', 0, 49_990, 100);
    expect(page.map((e) => e.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 49_990 + i));
    expect(page[0]!.payload).toBe(990);
  });
});
