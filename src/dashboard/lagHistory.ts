// Lag per partition over time, sampled from the status snapshots the dashboard serves and kept in its process.
import type { StatusSnapshot } from './collectStatus.ts';

/** Samples kept per partition (the page draws them as a sparkline). */
export const LAG_SAMPLES = 60;

/**
 * A bounded history of each consumer group's lag per partition: one sample per snapshot, at
 * most one every `minIntervalMs` (several open pages do not speed it up), the last
 * {@link LAG_SAMPLES} kept. Partitions missing from a snapshot are forgotten.
 * @internal
 */
export class LagHistory {
  private readonly series = new Map<string, number[]>();
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly minIntervalMs: number) {}

  /** Adds the lags of `snapshot` (unless the last sample is too recent). */
  record(snapshot: Pick<StatusSnapshot, 'at' | 'groups'>): void {
    if (snapshot.at - this.lastAt < this.minIntervalMs) return;
    this.lastAt = snapshot.at;
    const seen = new Set<string>();
    for (const g of snapshot.groups) {
      for (const p of g.partitions) {
        const id = `${g.group}/${g.topic}/${p.partition}`;
        seen.add(id);
        let s = this.series.get(id);
        if (s === undefined) this.series.set(id, (s = []));
        s.push(p.lag);
        if (s.length > LAG_SAMPLES) s.shift();
      }
    }
    for (const id of this.series.keys()) if (!seen.has(id)) this.series.delete(id);
  }

  /** Lag samples by `<group>/<topic>/<partition>`, oldest first. */
  toJSON(): Record<string, number[]> {
    return Object.fromEntries(this.series);
  }
}
