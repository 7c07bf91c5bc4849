// Conformance tests of watch (when a backend has it) and close.
import { describe, expect, it, vi } from 'vitest';
import type { LogEvent } from '../Backend.ts';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: `watch` (when implemented) and `close`. */
export function lifecycleTests(h: () => Harness): void {
  describe('lifecycle', () => {
    it('watch (when implemented) signals appends to the watched topic until unsubscribed', async (ctx) => {
      const b = h().backend;
      if (!b.watch) {
        ctx.skip();
        return;
      }
      await b.ensureTopic('w', { partitions: 4 });
      await b.ensureTopic('other', { partitions: 1 });
      const first: number[] = [];
      const off = b.watch('w', (p) => first.push(p));
      await b.append('other', [{ payload: 0 }]);
      await b.append('w', [{ payload: 1, partition: 2 }]);
      await vi.waitFor(() => expect(first).toContain(2), { timeout: 5000, interval: 10 });
      off();
      const seenBeforeOff = first.length;
      await b.append('w', [{ payload: 2, partition: 3 }]);
      // A second watcher proves the later append was signalled; the first must not see it.
      const second: number[] = [];
      const off2 = b.watch('w', (p) => second.push(p));
      await b.append('w', [{ payload: 3, partition: 1 }]);
      await vi.waitFor(() => expect(second).toContain(1), { timeout: 5000, interval: 10 });
      off2();
      expect(first).toHaveLength(seenBeforeOff);
      expect(first.every((p) => p === 2)).toBe(true);
    });

    it('watch (when implemented): events passed with a hint are the appended ones, as read returns them', async (ctx) => {
      const b = h().backend;
      if (!b.watch) {
        ctx.skip();
        return;
      }
      await b.ensureTopic('wd', { partitions: 2 });
      const hints: { partition: number; events: readonly LogEvent[] | undefined }[] = [];
      const off = b.watch('wd', (partition, events) => hints.push({ partition, events }));
      await b.append('wd', [{ payload: { n: 0 }, partition: 1 }]);
      await b.append('wd', [
        { payload: { n: 1 }, partition: 1, key: 'k', headers: { h: 'v' } },
        { payload: { n: 2 }, partition: 1 },
        { payload: { n: 3 }, partition: 0 },
      ]);
      await vi.waitFor(() => expect(hints.filter((x) => x.partition === 0)).toHaveLength(1), {
        timeout: 5000,
        interval: 10,
      });
      await vi.waitFor(() => expect(hints.filter((x) => x.partition === 1)).toHaveLength(2), {
        timeout: 5000,
        interval: 10,
      });
      off();
      for (const { partition, events } of hints) {
        if (events === undefined) continue; // a backend may send the partition alone
        expect(events.length).toBeGreaterThan(0);
        const stored = await b.read('wd', partition, events[0]!.offset, events.length);
        expect(events).toEqual(stored);
      }
    });

    it('close is idempotent and later calls reject with CLOSED', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      await b.close();
      await b.close();
      await rejectsWithCode(b.append('t', [{ payload: 1 }]), 'CLOSED');
      await rejectsWithCode(b.read('t', 0, 0, 1), 'CLOSED');
      await rejectsWithCode(b.commit('g', 't', 0, 1), 'CLOSED');
      await rejectsWithCode(b.dlq.count(), 'CLOSED');
      await rejectsWithCode(b.leases.acquire('L', 'a', 1000), 'CLOSED');
      await rejectsWithCode(b.membership.members(1000), 'CLOSED');
    });
  });
}
