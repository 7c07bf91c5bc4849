// Row shapes of the SQL delayed and schedule tables and their conversion to the contract's types.
import type { DelayedEvent } from '../DelayedStore.ts';
import type { ScheduleRecord, ScheduleSpec } from '../ScheduleStore.ts';
import { decodeJson } from './json.ts';

/** A row of the delayed-events table (SQLite and PostgreSQL). */
export interface DelayedRow {
  readonly topic: string;
  readonly id: string;
  readonly partition_index: number;
  readonly key: string | null;
  readonly payload: string;
  readonly headers: string | null;
  readonly deliver_at: number | string;
}

/** A delayed event from its row. */
export function delayedFromRow(r: DelayedRow): DelayedEvent {
  return {
    topic: r.topic,
    id: r.id,
    partition: r.partition_index,
    ...(r.key !== null ? { key: r.key } : {}),
    payload: decodeJson(r.payload),
    ...(r.headers !== null ? { headers: decodeJson(r.headers) as Record<string, string> } : {}),
    deliverAt: Number(r.deliver_at),
  };
}

/** A row of the schedules table. */
export interface ScheduleRow {
  readonly spec: string;
  readonly paused: number | boolean;
  readonly last_tick: number | string | null;
  readonly created_at: number | string;
}

/** A schedule record from its row. */
export function scheduleFromRow(r: ScheduleRow): ScheduleRecord {
  return {
    ...(decodeJson(r.spec) as ScheduleSpec),
    paused: r.paused === true || r.paused === 1,
    lastTick: r.last_tick === null ? null : Number(r.last_tick),
    createdAt: Number(r.created_at),
  };
}
