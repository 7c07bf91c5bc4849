// The pipeline memory tests' probe: the peak heap while `n` keyed events run through a pipeline.
import { stream } from '../../src/pipeline/stream.ts';

/** A keyed event of the probe. */
export interface HeapEvent {
  readonly key: string;
  readonly n: number;
}

/**
 * Runs `n` events (5,000 keys) from a sync or async generator through `partitionBy` + 8 workers
 * and returns the peak heap, sampled on every event whose number has no bit of `sampleMask` set.
 */
export async function peakHeap(
  n: number,
  kind: 'sync' | 'async',
  sampleMask: number,
): Promise<{ peak: number; ok: number }> {
  function* syncSource(): Generator<HeapEvent> {
    for (let i = 0; i < n; i++) yield { key: `customer-${i % 5000}`, n: i };
  }
  async function* asyncSource(): AsyncGenerator<HeapEvent> {
    for (let i = 0; i < n; i++) yield { key: `customer-${i % 5000}`, n: i };
  }
  let peak = 0;
  const report = await stream(kind === 'sync' ? syncSource() : asyncSource())
    .partitionBy((e) => e.key)
    .concurrent({ maxWorkers: 8, maxInFlight: 1024 })
    .process((e) => {
      if ((e.n & sampleMask) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
      return e.n;
    })
    .run();
  return { peak, ok: report.ok };
}
