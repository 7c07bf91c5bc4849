import { describe, expect, it } from 'vitest';
import { stream } from '../src/pipeline/stream.ts';

/** Runs `n` keyed events through the pipeline and returns the peak heap seen while running. */
async function peakHeap(n: number): Promise<{ peak: number; ok: number }> {
  function* source() {
    for (let i = 0; i < n; i++) yield { key: `customer-${i % 5000}`, n: i };
  }
  let peak = 0;
  const report = await stream(source())
    .partitionBy((e) => e.key)
    .concurrent({ maxWorkers: 8, maxInFlight: 1024 })
    .process((e) => {
      if ((e.n & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      return e.n;
    })
    .run();
  return { peak, ok: report.ok };
}

describe('pipeline memory', () => {
  it('stays flat with the stream length: 10 M events need no more heap than 1 M', async () => {
    const small = await peakHeap(1_000_000);
    const large = await peakHeap(10_000_000);
    expect(small.ok).toBe(1_000_000);
    expect(large.ok).toBe(10_000_000);
    // Keeping even 8 bytes per event would add 80 MB over the 10 M run.
    expect(large.peak).toBeLessThan(small.peak + 48 * 1024 * 1024);
    expect(large.peak).toBeLessThan(256 * 1024 * 1024);
  }, 180_000);
});
