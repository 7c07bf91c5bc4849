// Skip markers are recognised across two copies of the package (brand, not prototype).
import { describe, expect, it } from 'vitest';
import { mapConcurrent } from './mapConcurrent.ts';
import { isSkip, SkipItem, skip } from './skip.ts';

const COPY = './skip.ts?copy';

/** A second, separately evaluated copy of skip.ts, as when `src/` and `dist/` are both loaded. */
const otherCopy = async () => (await import(/* @vite-ignore */ COPY)) as typeof import('./skip.ts');

describe('skip markers across copies of the package', () => {
  it('a marker made by another copy is a skip for this copy, and for instanceof', async () => {
    const other = await otherCopy();
    expect(other.SkipItem).not.toBe(SkipItem);
    const marker = other.skip('from the other copy');
    expect(isSkip(marker)).toBe(true);
    expect(marker instanceof SkipItem).toBe(true);
    expect(skip('here') instanceof other.SkipItem).toBe(true);
    expect(isSkip({ reason: 'looks alike' })).toBe(false);
    expect({ reason: 'looks alike' } instanceof SkipItem).toBe(false);
  });

  it('mapConcurrent counts a foreign marker (returned or thrown) as skipped', async () => {
    const other = await otherCopy();
    const results = await mapConcurrent(
      [1, 2, 3],
      async (n) => {
        if (n === 1) return other.skip('returned');
        if (n === 2) throw other.skip('thrown');
        return n;
      },
      { concurrency: 2 },
    );
    expect(results.map((r) => r.status)).toEqual(['skipped', 'skipped', 'ok']);
  });
});
