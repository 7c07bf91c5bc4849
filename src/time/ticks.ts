// Tick times of a schedule (cron through croner, or fixed intervals from the epoch) and the missed-tick plan.
import { Cron } from 'croner';
import type { ScheduleRecord, ScheduleSpec } from '../backend/ScheduleStore.ts';

/** Computes the tick times of one schedule; identical in every process (a pure function of the spec). */
export interface TickClock {
  /** The first tick strictly after `t`. */
  next(t: number): number | null;
  /** The last tick at or before `t`. */
  previous(t: number): number | null;
}

/** The {@link TickClock} of a stored schedule. Interval ticks are the multiples of the interval since the epoch. */
export function tickClock(spec: Pick<ScheduleSpec, 'cron' | 'everyMs' | 'timezone'>): TickClock {
  if (spec.everyMs !== null) {
    const every = spec.everyMs;
    return {
      next: (t) => (Math.floor(t / every) + 1) * every,
      previous: (t) => Math.floor(t / every) * every,
    };
  }
  const cron = new Cron(spec.cron ?? '', {
    paused: true,
    ...(spec.timezone !== null ? { timezone: spec.timezone } : {}),
  });
  return {
    next: (t) => cron.nextRun(new Date(t))?.getTime() ?? null,
    // previousRuns is strictly before its reference: ask from 1 ms later to include `t` itself.
    previous: (t) => cron.previousRuns(1, new Date(t + 1))[0]?.getTime() ?? null,
  };
}

/** What a scheduler round does for one schedule. */
export interface TickPlan {
  /** Ticks to append now, in time order. */
  readonly fire: readonly number[];
  /** The tick to record as the last one handled (`null`: nothing to record). */
  readonly advanceTo: number | null;
  /** More ticks are due than `maxTicks` allowed (run again at once). */
  readonly more: boolean;
}

/** Settings of {@link planTicks}. */
export interface PlanSettings {
  /** A tick later than this (ms after its time) counts as missed. */
  readonly missedAfterMs: number;
  /** At most this many ticks per round. */
  readonly maxTicks: number;
}

/**
 * Decides which ticks of a schedule to append at `now`: the ticks after its last tick (or, before
 * the first, after its creation) up to `now`. A tick at most `missedAfterMs` old is on time and
 * always fires. Older ones were missed (no scheduler ran): `skip` drops them, `once` fires only
 * the latest of them, `all` fires every one in order.
 */
export function planTicks(rec: ScheduleRecord, clock: TickClock, now: number, s: PlanSettings): TickPlan {
  const after = rec.lastTick ?? rec.createdAt;
  const last = clock.previous(now);
  if (last === null || last <= after) return { fire: [], advanceTo: null, more: false };
  const fire: number[] = [];
  let from = after;
  const cutoff = now - s.missedAfterMs;
  if (rec.missed !== 'all' && cutoff > after) {
    const lastMissed = clock.previous(cutoff);
    if (lastMissed !== null && lastMissed > after) {
      if (rec.missed === 'once') fire.push(lastMissed);
      from = lastMissed;
    }
  }
  for (let t = clock.next(from); t !== null && t <= now; t = clock.next(t)) {
    if (fire.length >= s.maxTicks) return { fire, advanceTo: fire[fire.length - 1] ?? null, more: true };
    fire.push(t);
  }
  return { fire, advanceTo: last, more: false };
}

/** The event id of a schedule's tick: the same in every process, so a second append is deduplicated. */
export function tickId(name: string, tick: number): string {
  return `sluice-schedule:${name}:${tick}`;
}
