// PartitionPoller: hints that carry events end a wait without a read; others poll the partition.
import { describe, expect, it } from 'vitest';
import type { Backend, LogEvent, ReadRequest } from '../../backend/Backend.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { PartitionPoller } from './PartitionPoller.ts';

const ev = (partition: number, offset: number): LogEvent => ({
  topic: 't',
  partition,
  offset,
  id: `e${partition}-${offset}`,
  payload: offset,
  timestamp: 0,
});

/** A stub backend (pure logic under test): readMany answers from `stored` and counts calls. */
function setup(stored: Map<number, LogEvent[]>) {
  const calls: ReadRequest[][] = [];
  const backend = {
    readMany: async (_t: string, reqs: readonly ReadRequest[], limit: number) => {
      calls.push([...reqs]);
      return reqs.map((r) =>
        (stored.get(r.partition) ?? []).filter((e) => e.offset >= r.fromOffset).slice(0, limit),
      );
    },
  } as unknown as Backend;
  const clock = new ManualClock(0);
  const poller = new PartitionPoller({
    backend,
    topic: 't',
    batchSize: 2,
    intervalMs: 1000,
    clock,
    onError: (e) => {
      throw e;
    },
  });
  return { poller, calls, clock };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('PartitionPoller', () => {
  it('a hint carrying events from the waited offset ends the wait with them (at most batchSize), no read', async () => {
    const { poller, calls } = setup(new Map());
    const waiting = poller.wait(0, 5);
    poller.notify(0, [ev(0, 4), ev(0, 5), ev(0, 6), ev(0, 7)]);
    expect((await waiting)?.map((e) => e.offset)).toEqual([5, 6]);
    await turn();
    expect(calls).toHaveLength(0);
    expect(poller.delivered).toBe(2);
    poller.close();
  });

  it('a hint whose events do not cover the waited offset polls the partition instead', async () => {
    const stored = new Map([[0, [ev(0, 5), ev(0, 6), ev(0, 7), ev(0, 8)]]]);
    const { poller, calls } = setup(stored);
    const waiting = poller.wait(0, 5);
    poller.notify(0, [ev(0, 8)]); // a gap: 5..7 were announced to someone else's subscription
    expect((await waiting)?.map((e) => e.offset)).toEqual([5, 6]);
    expect(calls).toEqual([[{ partition: 0, fromOffset: 5 }]]);
    expect(poller.delivered).toBe(0);
    poller.close();
  });

  it('a hint without events, or for a busy partition, is kept for its next wait', async () => {
    const stored = new Map([[1, [ev(1, 0)]]]);
    const { poller, calls } = setup(stored);
    poller.notify(1, [ev(1, 0)]); // not waiting yet: remembered as urgent, events dropped
    const waiting = poller.wait(1, 0);
    expect((await waiting)?.map((e) => e.offset)).toEqual([0]);
    expect(calls).toHaveLength(1);
    poller.close();
  });
});
