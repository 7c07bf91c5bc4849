// The schedule store contract: named cron/interval schedules, their pause flag and last fired tick.
import type { TopicCount } from './DelayedStore.ts';

/** What happens to ticks that passed while no scheduler ran (see `docs/time.md`). */
export type MissedPolicy = 'skip' | 'once' | 'all';

/** A schedule's definition as stored (JSON-serializable; `produce` functions live in the process). */
export interface ScheduleSpec {
  readonly name: string;
  readonly topic: string;
  /** A cron expression (5 or 6 fields), or `null` for an interval schedule. */
  readonly cron: string | null;
  /** The interval in ms, or `null` for a cron schedule. */
  readonly everyMs: number | null;
  /** IANA time zone of the cron expression (`null`: UTC). */
  readonly timezone: string | null;
  /** The fixed payload, or `null` when the schedule's process produces it (`produce`). */
  readonly payload: unknown;
  /** Whether a `produce` function makes each tick's payload. */
  readonly produce: boolean;
  /** Partition key of the tick events, or `null`. */
  readonly key: string | null;
  readonly missed: MissedPolicy;
}

/** A stored schedule. */
export interface ScheduleRecord extends ScheduleSpec {
  readonly paused: boolean;
  /** The time of the last tick appended (ms since epoch), or `null` before the first. */
  readonly lastTick: number | null;
  /** When the schedule was first stored; ticks before it are never fired. */
  readonly createdAt: number;
}

/**
 * Stored schedules. Every built-in backend implements it as `backend.schedules`;
 * `src/backend/conformance/schedules.ts` runs on each. Time is passed in (`now`).
 */
export interface ScheduleStore {
  /**
   * Stores a schedule's definition (created or replaced). A replaced schedule keeps its pause
   * flag, last tick and creation time. Returns the stored record.
   */
  put(spec: ScheduleSpec, now: number): Promise<ScheduleRecord>;
  /** One schedule, or `undefined`. */
  get(name: string): Promise<ScheduleRecord | undefined>;
  /** Every schedule, by name. */
  list(): Promise<ScheduleRecord[]>;
  /** Pauses or resumes a schedule. Returns false when there is no such schedule. */
  setPaused(name: string, paused: boolean): Promise<boolean>;
  /** Deletes a schedule. Returns false when there was none. */
  remove(name: string): Promise<boolean>;
  /** Records `tick` as the last tick fired; never moves backwards. False when the schedule is gone. */
  advance(name: string, tick: number): Promise<boolean>;
  /** Schedules per target topic, in topic name order. */
  counts(): Promise<TopicCount[]>;
}
