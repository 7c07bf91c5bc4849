// In-memory ScheduleStore: schedule records in a map by name.

import { checkName } from '../common/args.ts';
import { decodeJson, encodeJson } from '../common/json.ts';
import { checkScheduleSpec, checkTime, countByTopic, specOf } from '../common/timeArgs.ts';
import type { TopicCount } from '../DelayedStore.ts';
import type { ScheduleRecord, ScheduleSpec, ScheduleStore } from '../ScheduleStore.ts';

/** In-memory {@link ScheduleStore}; part of `MemoryBackend`. */
export class MemorySchedules implements ScheduleStore {
  private readonly records = new Map<string, ScheduleRecord>();

  constructor(private readonly ensureOpen: () => void) {}

  async put(spec: ScheduleSpec, now: number): Promise<ScheduleRecord> {
    this.ensureOpen();
    checkScheduleSpec(spec);
    checkTime('now', now);
    const clean = decodeJson(encodeJson(specOf(spec), 'schedule')) as ScheduleSpec;
    const old = this.records.get(spec.name);
    const rec: ScheduleRecord = {
      ...clean,
      paused: old?.paused ?? false,
      lastTick: old?.lastTick ?? null,
      createdAt: old?.createdAt ?? now,
    };
    this.records.set(spec.name, rec);
    return copy(rec);
  }

  async get(name: string): Promise<ScheduleRecord | undefined> {
    this.ensureOpen();
    checkName('name', name);
    const r = this.records.get(name);
    return r === undefined ? undefined : copy(r);
  }

  async list(): Promise<ScheduleRecord[]> {
    this.ensureOpen();
    return [...this.records.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(copy);
  }

  async setPaused(name: string, paused: boolean): Promise<boolean> {
    this.ensureOpen();
    checkName('name', name);
    const r = this.records.get(name);
    if (r === undefined) return false;
    this.records.set(name, { ...r, paused });
    return true;
  }

  async remove(name: string): Promise<boolean> {
    this.ensureOpen();
    checkName('name', name);
    return this.records.delete(name);
  }

  async advance(name: string, tick: number): Promise<boolean> {
    this.ensureOpen();
    checkName('name', name);
    checkTime('tick', tick);
    const r = this.records.get(name);
    if (r === undefined) return false;
    if (r.lastTick === null || tick > r.lastTick) this.records.set(name, { ...r, lastTick: tick });
    return true;
  }

  async counts(): Promise<TopicCount[]> {
    this.ensureOpen();
    return countByTopic([...this.records.values()].map((r) => r.topic));
  }
}

function copy(r: ScheduleRecord): ScheduleRecord {
  return decodeJson(JSON.stringify(r)) as ScheduleRecord;
}
