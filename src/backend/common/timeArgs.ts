// Argument checks of the delayed and schedule stores, shared by every backend.
import { configError } from '../../core/errors.ts';
import type { DelayedInput } from '../DelayedStore.ts';
import type { ScheduleSpec } from '../ScheduleStore.ts';
import { checkName, checkNonNegativeInt } from './args.ts';

/** A time passed in (`now`, a tick): a non-negative integer of ms since epoch. */
export function checkTime(field: string, v: unknown): number {
  return checkNonNegativeInt(field, v);
}

/** A positive page size. */
export function checkLimit(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw configError('limit', 'an integer >= 1', v);
  return v;
}

/** Checks what {@link DelayedStore.add} receives (already validated by the append path). */
export function checkDelayedInputs(topic: unknown, events: readonly DelayedInput[]): void {
  checkName('topic', topic);
  if (!Array.isArray(events)) throw configError('events', 'an array', events);
  events.forEach((e, i) => {
    checkName(`events[${i}].id`, e?.id);
    checkTime(`events[${i}].deliverAt`, e.deliverAt);
  });
}

/** Checks a TTL passed to `setTopicTtl`: an integer >= 1 or `null`. */
export function checkTtlOrNull(v: unknown): number | null {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw configError('ttl', 'an integer >= 1 or null', v);
  return v;
}

/** Checks the stored shape of a schedule (the scheduler validates user input more closely). */
export function checkScheduleSpec(spec: ScheduleSpec): ScheduleSpec {
  if (typeof spec !== 'object' || spec === null) throw configError('schedule', 'an object', spec);
  checkName('name', spec.name);
  checkName('topic', spec.topic);
  if ((spec.cron === null) === (spec.everyMs === null)) {
    throw configError('cron', 'exactly one of cron and every', spec.cron);
  }
  if (!['skip', 'once', 'all'].includes(spec.missed)) {
    throw configError('missed', '"skip", "once" or "all"', spec.missed);
  }
  return spec;
}

/** A copy of the spec fields of a record (so stores never keep extra properties). */
export function specOf(s: ScheduleSpec): ScheduleSpec {
  return {
    name: s.name,
    topic: s.topic,
    cron: s.cron,
    everyMs: s.everyMs,
    timezone: s.timezone,
    payload: s.payload ?? null,
    produce: s.produce,
    key: s.key,
    missed: s.missed,
  };
}

/** Sorts counts of `items` by their topic. */
export function countByTopic(topics: Iterable<string>): { topic: string; count: number }[] {
  const m = new Map<string, number>();
  for (const t of topics) m.set(t, (m.get(t) ?? 0) + 1);
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, count]) => ({ topic, count }));
}
