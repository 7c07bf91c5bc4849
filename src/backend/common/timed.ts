// Appends with delay/deliverAt/ttl/priority: splits a batch into immediate and delayed events.
import { randomUUID } from 'node:crypto';
import { parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import type { AppendInput, AppendResult, Backend } from '../Backend.ts';
import type { DelayedInput, DelayedStore } from '../DelayedStore.ts';
import { prepareEvents } from './args.ts';
import { topicNotFound } from './errors.ts';

/** Header holding an event's expiry time (ms since epoch, decimal). */
export const EXPIRES_AT_HEADER = 'sluice-expires-at';
/** Header holding an event's priority (an integer, decimal). */
export const PRIORITY_HEADER = 'priority';

/** A batch whose events use time options, split by when they enter the topic. */
export interface TimedBatch {
  /** Every input, rewritten: options turned into headers, delayed ones given an id. */
  readonly inputs: readonly AppendInput[];
  /** For each input, its due time when delayed, else `undefined`. */
  readonly dueAt: readonly (number | undefined)[];
}

function hasTimeOptions(e: AppendInput): boolean {
  return (
    e.delay !== undefined || e.deliverAt !== undefined || e.ttl !== undefined || e.priority !== undefined
  );
}

function dueTime(e: AppendInput, f: string, now: number): number | undefined {
  if (e.delay !== undefined && e.deliverAt !== undefined) {
    throw configError(`${f}.delay`, 'not together with deliverAt', e.delay);
  }
  if (e.delay !== undefined) {
    const ms = parseDuration(e.delay, `${f}.delay`);
    return ms > 0 ? now + Math.ceil(ms) : undefined;
  }
  if (e.deliverAt === undefined) return undefined;
  const at = e.deliverAt instanceof Date ? e.deliverAt.getTime() : e.deliverAt;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw configError(`${f}.deliverAt`, 'a valid Date or ms since epoch', e.deliverAt);
  }
  return at > now ? Math.ceil(at) : undefined;
}

/** Whether any event of the batch uses `delay`, `deliverAt`, `ttl` or `priority` (never throws). */
export function usesTime(events: readonly AppendInput[]): boolean {
  if (!Array.isArray(events)) return false;
  for (const e of events) if (typeof e === 'object' && e !== null && hasTimeOptions(e)) return true;
  return false;
}

/**
 * Rewrites a batch that uses `delay`, `deliverAt`, `ttl` or `priority`, or returns `undefined`
 * (the fast path) when no event does. Throws `CONFIG_INVALID` naming the field and value.
 */
export function splitTimed(events: readonly AppendInput[], now: number): TimedBatch | undefined {
  if (!usesTime(events)) return undefined;
  const inputs: AppendInput[] = [];
  const dueAt: (number | undefined)[] = [];
  events.forEach((e, i) => {
    const f = `events[${i}]`;
    if (typeof e !== 'object' || e === null || !hasTimeOptions(e)) {
      inputs.push(e);
      dueAt.push(undefined);
      return;
    }
    const at = dueTime(e, f, now);
    const headers: Record<string, string> = { ...e.headers };
    if (e.ttl !== undefined) {
      const ttl = parseDuration(e.ttl, `${f}.ttl`);
      if (ttl <= 0) throw configError(`${f}.ttl`, 'a duration > 0', e.ttl);
      headers[EXPIRES_AT_HEADER] = String((at ?? now) + Math.ceil(ttl));
    }
    if (e.priority !== undefined) {
      if (typeof e.priority !== 'number' || !Number.isSafeInteger(e.priority)) {
        throw configError(`${f}.priority`, 'an integer', e.priority);
      }
      headers[PRIORITY_HEADER] = String(e.priority);
    }
    const { delay: _d, deliverAt: _a, ttl: _t, priority: _p, headers: _h, ...rest } = e;
    const id = rest.id ?? (at !== undefined ? randomUUID() : undefined);
    const withHeaders = Object.keys(headers).length > 0 ? { headers } : {};
    inputs.push({ ...rest, ...(id !== undefined ? { id } : {}), ...withHeaders });
    dueAt.push(at);
  });
  return { inputs, dueAt };
}

/**
 * Appends a batch that {@link usesTime}: rewrites it ({@link splitTimed}), validates the whole batch against the topic, stores the delayed
 * part in `delayed`, then appends the rest with `appendNow`. Results are in input order; a delayed
 * event's result has offset `-1` and its `deliverAt`.
 */
export async function appendTimed(
  backend: Pick<Backend, 'topicInfo'>,
  delayed: DelayedStore,
  topic: string,
  events: readonly AppendInput[],
  now: number,
  appendNow: (events: readonly AppendInput[]) => Promise<AppendResult[]>,
): Promise<AppendResult[]> {
  const batch = splitTimed(events, now);
  if (batch === undefined) return appendNow(events);
  const info = await backend.topicInfo(topic);
  if (info === undefined) throw topicNotFound(topic);
  const prepared = prepareEvents(batch.inputs, info.partitions);
  const later: DelayedInput[] = [];
  const immediate: AppendInput[] = [];
  const results: (AppendResult | undefined)[] = Array.from({ length: prepared.length }, () => undefined);
  prepared.forEach((p, i) => {
    const at = batch.dueAt[i];
    if (at === undefined) {
      immediate.push(batch.inputs[i]!);
      return;
    }
    const id = p.id!;
    later.push({
      id,
      partition: p.partition,
      key: p.key,
      payload: p.payload,
      headers: p.headers,
      deliverAt: at,
    });
    results[i] = { id, partition: p.partition, offset: -1, deliverAt: at };
  });
  if (later.length > 0) await delayed.add(topic, later);
  const appended = immediate.length > 0 ? await appendNow(immediate) : [];
  let j = 0;
  return results.map((r) => r ?? appended[j++]!);
}

/** Checks and converts the `ttl` option of `ensureTopic` (ms, or `undefined` when not given). */
export function checkTopicTtl(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v, 'ttl');
  if (ms <= 0) throw configError('ttl', 'a duration > 0', v);
  return Math.ceil(ms);
}
