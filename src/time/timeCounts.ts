// Delayed-event and schedule counts per topic, read from a backend's delayed and schedule stores.
import type { Backend } from '../backend/Backend.ts';

/** Per topic: delayed events waiting and schedules appending to it. */
export interface TimeCount {
  readonly topic: string;
  readonly delayed: number;
  readonly schedules: number;
}

/** Reads the delayed and schedule counts of every topic that has any (empty when the backend has neither store). */
export async function timeCounts(backend: Backend): Promise<TimeCount[]> {
  const [delayed, schedules] = await Promise.all([
    backend.delayed?.counts() ?? Promise.resolve([]),
    backend.schedules?.counts() ?? Promise.resolve([]),
  ]);
  const byTopic = new Map<string, { delayed: number; schedules: number }>();
  for (const d of delayed) byTopic.set(d.topic, { delayed: d.count, schedules: 0 });
  for (const s of schedules) {
    const row = byTopic.get(s.topic) ?? { delayed: 0, schedules: 0 };
    byTopic.set(s.topic, { ...row, schedules: s.count });
  }
  return [...byTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, c]) => ({ topic, ...c }));
}
