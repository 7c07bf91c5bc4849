// Redis ScheduleStore: HASHes by schedule name (definition, topic, creation, pause, last tick) in one slot.

import { checkName } from '../common/args.ts';
import { decodeJson, encodeJson } from '../common/json.ts';
import { checkScheduleSpec, checkTime, countByTopic, specOf } from '../common/timeArgs.ts';
import type { TopicCount } from '../DelayedStore.ts';
import type { ScheduleRecord, ScheduleSpec, ScheduleStore } from '../ScheduleStore.ts';
import type { RedisConnection } from './RedisConnection.ts';

/**
 * {@link ScheduleStore} on Redis: `<prefix>:schedules{<prefix>}:spec|topic|created|paused|last`,
 * each a HASH keyed by schedule name. Part of `RedisBackend`.
 */
export class RedisSchedules implements ScheduleStore {
  private readonly k: { spec: string; topic: string; created: string; paused: string; last: string };

  constructor(private readonly conn: RedisConnection) {
    const base = `${conn.keys.prefix}:schedules{${conn.keys.prefix}}`;
    this.k = {
      spec: `${base}:spec`,
      topic: `${base}:topic`,
      created: `${base}:created`,
      paused: `${base}:paused`,
      last: `${base}:last`,
    };
  }

  private get all(): string[] {
    const { spec, topic, created, paused, last } = this.k;
    return [spec, topic, created, paused, last];
  }

  put(spec: ScheduleSpec, now: number): Promise<ScheduleRecord> {
    return this.conn.run('schedules.put', async () => {
      checkScheduleSpec(spec);
      checkTime('now', now);
      const json = encodeJson(specOf(spec), 'schedule');
      const [created, paused, last] = (await this.conn.script('sluiceSchedulePut', this.all, [
        spec.name,
        json,
        spec.topic,
        now,
      ])) as [string, string, string];
      return this.record(json, created, paused, last);
    });
  }

  get(name: string): Promise<ScheduleRecord | undefined> {
    return this.conn.run('schedules.get', async () => {
      checkName('name', name);
      const [json, created, paused, last] = await Promise.all([
        this.conn.client.hget(this.k.spec, name),
        this.conn.client.hget(this.k.created, name),
        this.conn.client.hget(this.k.paused, name),
        this.conn.client.hget(this.k.last, name),
      ]);
      if (json === null || created === null) return undefined;
      return this.record(json, created, paused ?? '', last ?? '');
    });
  }

  list(): Promise<ScheduleRecord[]> {
    return this.conn.run('schedules.list', async () => {
      const [specs, created, paused, last] = await Promise.all([
        this.conn.client.hgetall(this.k.spec),
        this.conn.client.hgetall(this.k.created),
        this.conn.client.hgetall(this.k.paused),
        this.conn.client.hgetall(this.k.last),
      ]);
      return Object.keys(specs)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .map((n) => this.record(specs[n]!, created[n] ?? '0', paused[n] ?? '', last[n] ?? ''));
    });
  }

  setPaused(name: string, paused: boolean): Promise<boolean> {
    return this.set('schedules.setPaused', name, this.k.paused, '1', paused ? 'set' : 'del');
  }

  remove(name: string): Promise<boolean> {
    return this.conn.run('schedules.remove', async () => {
      checkName('name', name);
      return Number(await this.conn.script('sluiceScheduleRemove', this.all, [name])) > 0;
    });
  }

  advance(name: string, tick: number): Promise<boolean> {
    checkTime('tick', tick);
    return this.set('schedules.advance', name, this.k.last, String(tick), 'max');
  }

  counts(): Promise<TopicCount[]> {
    return this.conn.run('schedules.counts', async () =>
      countByTopic(Object.values(await this.conn.client.hgetall(this.k.topic))),
    );
  }

  private set(what: string, name: string, key: string, value: string, mode: string): Promise<boolean> {
    return this.conn.run(what, async () => {
      checkName('name', name);
      return (
        Number(await this.conn.script('sluiceScheduleSet', [this.k.spec, key], [name, value, mode])) === 1
      );
    });
  }

  private record(json: string, created: string, paused: string, last: string): ScheduleRecord {
    return {
      ...(decodeJson(json) as ScheduleSpec),
      paused: paused === '1',
      lastTick: last === '' ? null : Number(last),
      createdAt: Number(created),
    };
  }
}
