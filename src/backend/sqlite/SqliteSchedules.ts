// SQLite ScheduleStore: one row per schedule (definition as JSON, pause flag, last tick).

import { checkName } from '../common/args.ts';
import { encodeJson } from '../common/json.ts';
import { checkScheduleSpec, checkTime, specOf } from '../common/timeArgs.ts';
import { type ScheduleRow, scheduleFromRow } from '../common/timeRows.ts';
import type { TopicCount } from '../DelayedStore.ts';
import type { ScheduleRecord, ScheduleSpec, ScheduleStore } from '../ScheduleStore.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

const COLUMNS = 'spec, paused, last_tick, created_at';

/** SQLite {@link ScheduleStore}. Part of `SqliteBackend`. */
export class SqliteSchedules implements ScheduleStore {
  constructor(private readonly conn: SqliteConnection) {}

  put(spec: ScheduleSpec, now: number): Promise<ScheduleRecord> {
    return this.conn.run('schedules.put', () => {
      checkScheduleSpec(spec);
      checkTime('now', now);
      const row = this.conn
        .stmt(
          `INSERT INTO sluice_schedules (name, topic, spec, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET topic = excluded.topic, spec = excluded.spec
           RETURNING ${COLUMNS}`,
        )
        .get(spec.name, spec.topic, encodeJson(specOf(spec), 'schedule'), now) as ScheduleRow;
      return scheduleFromRow(row);
    });
  }

  get(name: string): Promise<ScheduleRecord | undefined> {
    return this.conn.run('schedules.get', () => {
      checkName('name', name);
      const row = this.conn.stmt(`SELECT ${COLUMNS} FROM sluice_schedules WHERE name = ?`).get(name) as
        | ScheduleRow
        | undefined;
      return row === undefined ? undefined : scheduleFromRow(row);
    });
  }

  list(): Promise<ScheduleRecord[]> {
    return this.conn.run('schedules.list', () =>
      (this.conn.stmt(`SELECT ${COLUMNS} FROM sluice_schedules ORDER BY name`).all() as ScheduleRow[]).map(
        scheduleFromRow,
      ),
    );
  }

  setPaused(name: string, paused: boolean): Promise<boolean> {
    return this.conn.run('schedules.setPaused', () => {
      checkName('name', name);
      return (
        this.conn.stmt('UPDATE sluice_schedules SET paused = ? WHERE name = ?').run(paused ? 1 : 0, name)
          .changes > 0
      );
    });
  }

  remove(name: string): Promise<boolean> {
    return this.conn.run('schedules.remove', () => {
      checkName('name', name);
      return this.conn.stmt('DELETE FROM sluice_schedules WHERE name = ?').run(name).changes > 0;
    });
  }

  advance(name: string, tick: number): Promise<boolean> {
    return this.conn.run('schedules.advance', () => {
      checkName('name', name);
      checkTime('tick', tick);
      return (
        this.conn
          .stmt('UPDATE sluice_schedules SET last_tick = max(coalesce(last_tick, ?), ?) WHERE name = ?')
          .run(tick, tick, name).changes > 0
      );
    });
  }

  counts(): Promise<TopicCount[]> {
    return this.conn.run('schedules.counts', () => {
      return this.conn
        .stmt('SELECT topic, count(*) AS count FROM sluice_schedules GROUP BY topic ORDER BY topic')
        .all() as TopicCount[];
    });
  }
}
