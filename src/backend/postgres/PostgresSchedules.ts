// PostgreSQL ScheduleStore: one row per schedule (definition as JSON text, pause flag, last tick).

import { checkName } from '../common/args.ts';
import { encodeJson } from '../common/json.ts';
import { checkScheduleSpec, checkTime, specOf } from '../common/timeArgs.ts';
import { type ScheduleRow, scheduleFromRow } from '../common/timeRows.ts';
import type { TopicCount } from '../DelayedStore.ts';
import type { ScheduleRecord, ScheduleSpec, ScheduleStore } from '../ScheduleStore.ts';
import type { PgConnection } from './PgConnection.ts';

const COLUMNS = 'spec, paused, last_tick, created_at';

/** PostgreSQL {@link ScheduleStore}. Part of `PostgresBackend`. */
export class PostgresSchedules implements ScheduleStore {
  constructor(private readonly conn: PgConnection) {}

  async put(spec: ScheduleSpec, now: number): Promise<ScheduleRecord> {
    this.conn.ensureOpen();
    checkScheduleSpec(spec);
    checkTime('now', now);
    const { rows } = await this.conn.query<ScheduleRow>(
      'schedules.put',
      `INSERT INTO ${this.conn.s}.schedules (name, topic, spec, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET topic = excluded.topic, spec = excluded.spec
       RETURNING ${COLUMNS}`,
      [spec.name, spec.topic, encodeJson(specOf(spec), 'schedule'), now],
      undefined,
      false,
    );
    return scheduleFromRow(rows[0]!);
  }

  async get(name: string): Promise<ScheduleRecord | undefined> {
    this.conn.ensureOpen();
    checkName('name', name);
    const { rows } = await this.conn.query<ScheduleRow>(
      'schedules.get',
      `SELECT ${COLUMNS} FROM ${this.conn.s}.schedules WHERE name = $1`,
      [name],
    );
    return rows[0] === undefined ? undefined : scheduleFromRow(rows[0]);
  }

  async list(): Promise<ScheduleRecord[]> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<ScheduleRow>(
      'schedules.list',
      `SELECT ${COLUMNS} FROM ${this.conn.s}.schedules ORDER BY name`,
      [],
    );
    return rows.map(scheduleFromRow);
  }

  async setPaused(name: string, paused: boolean): Promise<boolean> {
    return this.update('schedules.setPaused', name, 'paused = $2', paused);
  }

  async remove(name: string): Promise<boolean> {
    this.conn.ensureOpen();
    checkName('name', name);
    const { rowCount } = await this.conn.query(
      'schedules.remove',
      `DELETE FROM ${this.conn.s}.schedules WHERE name = $1`,
      [name],
      undefined,
      false,
    );
    return (rowCount ?? 0) > 0;
  }

  async advance(name: string, tick: number): Promise<boolean> {
    checkTime('tick', tick);
    return this.update('schedules.advance', name, 'last_tick = greatest(coalesce(last_tick, $2), $2)', tick);
  }

  async counts(): Promise<TopicCount[]> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ topic: string; count: string }>(
      'schedules.counts',
      `SELECT topic, count(*) AS count FROM ${this.conn.s}.schedules GROUP BY topic ORDER BY topic`,
      [],
    );
    return rows.map((r) => ({ topic: r.topic, count: Number(r.count) }));
  }

  private async update(what: string, name: string, set: string, value: unknown): Promise<boolean> {
    this.conn.ensureOpen();
    checkName('name', name);
    const { rowCount } = await this.conn.query(
      what,
      `UPDATE ${this.conn.s}.schedules SET ${set} WHERE name = $1`,
      [name, value],
      undefined,
      false,
    );
    return (rowCount ?? 0) > 0;
  }
}
