// Tests that reading an async source ahead keeps memory independent of the stream's length.
import { describe, expect, it } from 'vitest';
import { peakHeap } from '../../test/support/pipelineHeap.ts';

describe('async source memory', () => {
  it('stays flat with the stream length: 1 M async events need no more heap than 100 k', async () => {
    const small = await peakHeap(100_000, 'async', 0x3fff);
    const large = await peakHeap(1_000_000, 'async', 0x3fff);
    expect(small.ok).toBe(100_000);
    expect(large.ok).toBe(1_000_000);
    // Keeping even 40 bytes per event would add 34 MB over the larger run.
    expect(large.peak).toBeLessThan(small.peak + 32 * 1024 * 1024);
  }, 240_000);
});
