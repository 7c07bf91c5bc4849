// Conformance tests of read (offset ranges, limits) and endOffset.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: `read` and `endOffset`. */
export function readTests(h: () => Harness): void {
  describe('read', () => {
    async function tenEvents(): Promise<void> {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 2 });
      await b.append(
        't',
        Array.from({ length: 10 }, (_, i) => ({ payload: i, partition: 1 })),
      );
    }

    it('reads from an offset (inclusive) up to a limit, in offset order', async () => {
      const b = h().backend;
      await tenEvents();
      expect((await b.read('t', 1, 0, 3)).map((e) => e.payload)).toEqual([0, 1, 2]);
      expect((await b.read('t', 1, 4, 3)).map((e) => e.offset)).toEqual([4, 5, 6]);
      expect((await b.read('t', 1, 7, 100)).map((e) => e.payload)).toEqual([7, 8, 9]);
      expect((await b.read('t', 1, 0, 1000)).length).toBe(10);
    });

    it('reading at or beyond the end, or with limit 0, returns nothing', async () => {
      const b = h().backend;
      await tenEvents();
      expect(await b.read('t', 1, 10, 5)).toEqual([]);
      expect(await b.read('t', 1, 1_000_000, 5)).toEqual([]);
      expect(await b.read('t', 1, 3, 0)).toEqual([]);
      expect(await b.read('t', 0, 0, 5)).toEqual([]);
    });

    it('endOffset is the next offset to be assigned, per partition', async () => {
      const b = h().backend;
      await tenEvents();
      expect(await b.endOffset('t', 0)).toBe(0);
      expect(await b.endOffset('t', 1)).toBe(10);
      const [r] = await b.append('t', [{ payload: 'x', partition: 1 }]);
      expect(r!.offset).toBe(10);
      expect(await b.endOffset('t', 1)).toBe(11);
    });

    it('validates partition, offset and limit with CONFIG_INVALID', async () => {
      const b = h().backend;
      await tenEvents();
      await rejectsWithCode(b.read('t', 2, 0, 1), 'CONFIG_INVALID');
      await rejectsWithCode(b.read('t', -1, 0, 1), 'CONFIG_INVALID');
      await rejectsWithCode(b.read('t', 0, -1, 1), 'CONFIG_INVALID');
      await rejectsWithCode(b.read('t', 0, 0.5, 1), 'CONFIG_INVALID');
      await rejectsWithCode(b.read('t', 0, 0, -1), 'CONFIG_INVALID');
      await rejectsWithCode(b.endOffset('t', 2), 'CONFIG_INVALID');
    });

    it('read and endOffset of a missing topic reject with NOT_FOUND', async () => {
      const b = h().backend;
      await rejectsWithCode(b.read('missing', 0, 0, 1), 'NOT_FOUND');
      await rejectsWithCode(b.endOffset('missing', 0), 'NOT_FOUND');
    });
  });
}
