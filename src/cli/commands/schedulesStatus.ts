// The delayed-event and schedule counts table of `sluice status`.
import type { TimeCount } from '../../time/timeCounts.ts';
import { newTable } from '../tableStyle.ts';

/** The "Delayed and scheduled" table of `sluice status` (a one-line note when there is nothing). */
export function renderTimeCounts(counts: readonly TimeCount[]): string {
  if (counts.length === 0) return 'Delayed events: none    Schedules: none\n';
  const t = newTable(['topic', 'delayed events', 'schedules']);
  for (const c of counts) t.push([c.topic, c.delayed, c.schedules]);
  return `Delayed and scheduled\n${t.toString()}\n`;
}
