// The Projection suite on the memory backend, option validation, and polling when the backend has no watch().
import { describe, expect, it } from 'vitest';
import { projectionSuite } from '../../../test/fixtures/patterns/projectionSuite.ts';
import { createMemoryBackend } from '../../backend/memory/MemoryBackend.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { defineProjection } from './Projection.ts';

projectionSuite('memory', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  return { backend: createMemoryBackend({ clock }), clock, cleanup: async () => {} };
});

describe('Projection options', () => {
  it('rejects invalid definitions with CONFIG_INVALID naming the field', () => {
    const backend = createMemoryBackend();
    const ok = { name: 'p', backend, topic: 't', initial: 0, reduce: (s: number) => s };
    expect(() => defineProjection({ ...ok, topic: '' })).toThrow(/`defineProjection\.topic`/);
    expect(() => defineProjection({ ...ok, reduce: 1 as never })).toThrow(/`defineProjection\.reduce`/);
    expect(() => defineProjection({ ...ok, batchSize: 0 })).toThrow(/`defineProjection\.batchSize`/);
  });

  it('polls at the interval when the backend has no watch()', async () => {
    const clock = new ManualClock(0);
    const inner = createMemoryBackend({ clock });
    const backend = Object.create(inner) as typeof inner;
    Object.defineProperty(backend, 'watch', { value: undefined });
    await backend.ensureTopic('t', { partitions: 1 });
    const p = defineProjection<number>({
      name: 'poll',
      backend,
      topic: 't',
      initial: 0,
      reduce: (s) => s + 1,
      clock,
    });
    const ctrl = new AbortController();
    const running = p.run({ signal: ctrl.signal, interval: 1000 });
    await clock.advance(0);
    await backend.append('t', [{ payload: 1 }]);
    await clock.advance(999);
    expect(p.state).toBe(0);
    await clock.advance(1);
    expect(p.state).toBe(1);
    ctrl.abort();
    await running;
  });
});
