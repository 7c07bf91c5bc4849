// The options of `scheduler.schedule()` and their validation into a stored ScheduleSpec.
import { Cron } from 'croner';
import type { MissedPolicy, ScheduleSpec } from '../backend/ScheduleStore.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { configError } from '../core/errors.ts';

/** What a `produce` function receives for one tick. */
export interface TickContext {
  /** The schedule's name. */
  readonly name: string;
  /** The tick's time (not the time it runs: a late tick keeps its own time). */
  readonly tick: Date;
  /** Aborted when the scheduler closes. */
  readonly signal: AbortSignal;
}

/**
 * A schedule: a cron expression (`cron`, optionally in `timezone`) or a fixed interval (`every`),
 * whose ticks append one event each to `topic`.
 */
export interface ScheduleOptions<T = unknown> {
  /** Unique name; re-scheduling the same name replaces the definition (keeping pause and last tick). */
  name: string;
  /** Topic the tick events are appended to (must exist when a tick fires). */
  topic: string;
  /** A cron expression, 5 fields (minute precision) or 6 (seconds first). Not with `every`. */
  cron?: string;
  /** A fixed interval (`"30s"` or ms); ticks are the multiples of it since the epoch. Not with `cron`. */
  every?: Duration;
  /** IANA time zone of `cron` (default UTC). */
  timezone?: string;
  /** The payload of every tick (JSON). Not with `produce`. */
  payload?: T;
  /** Makes each tick's payload; only a scheduler that registered it can fire the schedule. */
  produce?: (tick: TickContext) => T | Promise<T>;
  /** Partition key of the tick events. */
  key?: string;
  /** Ticks missed while no scheduler ran: `skip` (default), `once` (the latest), or `all`. */
  missed?: MissedPolicy;
}

/** A validated schedule: what is stored, plus the in-process `produce`. */
export interface ValidSchedule<T = unknown> {
  readonly spec: ScheduleSpec;
  readonly produce: ((tick: TickContext) => T | Promise<T>) | undefined;
}

/** Whether `tz` is a time zone this runtime knows. */
function knownTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function checkCron(cron: unknown, timezone: string | null): string {
  if (typeof cron !== 'string' || cron.trim().length === 0)
    throw configError('cron', 'a cron expression', cron);
  try {
    new Cron(cron, { paused: true, ...(timezone !== null ? { timezone } : {}) });
  } catch (e) {
    throw configError('cron', `a valid cron expression (${(e as Error).message})`, cron);
  }
  return cron;
}

/**
 * Validates schedule options. Throws `CONFIG_INVALID` naming the field and the value: a missing
 * name or topic, both or neither of `cron` and `every`, an invalid cron expression, an unknown
 * time zone, a non-positive interval, both `payload` and `produce`, an unknown `missed`.
 */
export function validateSchedule<T>(o: ScheduleOptions<T>): ValidSchedule<T> {
  if (typeof o !== 'object' || o === null) throw configError('schedule', 'an object', o);
  if (typeof o.name !== 'string' || o.name.length === 0)
    throw configError('name', 'a non-empty string', o.name);
  if (typeof o.topic !== 'string' || o.topic.length === 0)
    throw configError('topic', 'a non-empty string', o.topic);
  if (o.cron !== undefined && o.every !== undefined) {
    throw configError('every', 'not together with cron', o.every);
  }
  if (o.cron === undefined && o.every === undefined)
    throw configError('cron', 'a cron expression (or every)', o.cron);
  let timezone: string | null = null;
  if (o.timezone !== undefined) {
    if (typeof o.timezone !== 'string' || !knownTimezone(o.timezone)) {
      throw configError('timezone', 'an IANA time zone such as "Europe/Berlin"', o.timezone);
    }
    if (o.every !== undefined) throw configError('timezone', 'only with cron', o.timezone);
    timezone = o.timezone;
  }
  const cron = o.cron === undefined ? null : checkCron(o.cron, timezone);
  let everyMs: number | null = null;
  if (o.every !== undefined) {
    everyMs = Math.round(parseDuration(o.every, 'every'));
    if (everyMs < 1) throw configError('every', 'a duration >= 1ms', o.every);
  }
  if (o.payload !== undefined && o.produce !== undefined)
    throw configError('produce', 'not together with payload', 'a function');
  if (o.produce !== undefined && typeof o.produce !== 'function')
    throw configError('produce', 'a function', o.produce);
  if (o.key !== undefined && typeof o.key !== 'string') throw configError('key', 'a string', o.key);
  const missed = o.missed ?? 'skip';
  if (!['skip', 'once', 'all'].includes(missed))
    throw configError('missed', '"skip", "once" or "all"', missed);
  return {
    spec: {
      name: o.name,
      topic: o.topic,
      cron,
      everyMs,
      timezone,
      payload: o.payload ?? null,
      produce: o.produce !== undefined,
      key: o.key ?? null,
      missed,
    },
    produce: o.produce,
  };
}
