// Memory test of the pipeline: the peak heap over 10 M keyed events stays close to that over 1 M.
import { describe, expect, it } from 'vitest';
import { peakHeap } from './support/pipelineHeap.ts';

describe('pipeline memory', () => {
  it('stays flat with the stream length: 10 M events need no more heap than 1 M', async () => {
    const small = await peakHeap(1_000_000, 'sync', 0xffff);
    const large = await peakHeap(10_000_000, 'sync', 0xffff);
    expect(small.ok).toBe(1_000_000);
    expect(large.ok).toBe(10_000_000);
    // Keeping even 8 bytes per event would add 80 MB over the 10 M run.
    expect(large.peak).toBeLessThan(small.peak + 48 * 1024 * 1024);
    expect(large.peak).toBeLessThan(256 * 1024 * 1024);
  }, 180_000);
});
