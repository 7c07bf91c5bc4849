// Validates the flow-control options of `.concurrent()` (limits, per-key concurrency, fairness, priority) into the engine's flow settings.
import type { LogEvent } from '../backend/Backend.ts';
import type { Clock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { configError, isSluiceError, SluiceError } from '../core/errors.ts';
import type { Limiter } from '../flow/Limiter.ts';
import type { RateLimitOptions } from '../flow/options.ts';
import { rateLimit } from '../flow/rateLimit.ts';
import type { PartitionKey } from './keys.ts';
import type { RankRules } from './ReadyRank.ts';
import type { ConcurrentOptions } from './types.ts';

/** Name of the event header a topic source reads an event's priority from. */
export const PRIORITY_HEADER = 'priority';

/** Default aging: an item's effective priority grows by 1 per second it waited. */
export const DEFAULT_PRIORITY_AGING_MS = 1000;

/** The engine's flow settings. @internal */
export interface FlowConfig<T> {
  /** Items of one key running at once (1: strict order). */
  readonly perKey: number;
  /** Limit of the whole stage (its key: the limiter's own `keyOf(item)`). */
  readonly stageLimiter: Limiter<T> | undefined;
  /** Limit per partition key (its key: the partition key as a string). */
  readonly keyLimiter: Limiter<never> | undefined;
  /** Limiters made from options here: closed when the run ends. */
  readonly owned: readonly Limiter<never>[];
  /** Ranked scheduling, or undefined for the FIFO round robin fast path. */
  readonly rank: RankRules | undefined;
  /** Priority of an item (checked per item: a finite number). */
  readonly priorityOf: ((item: T) => unknown) | undefined;
  /** Weight of a key (checked per key: a finite number > 0). */
  readonly weightOf: ((key: PartitionKey) => unknown) | undefined;
}

function isLimiter(v: unknown): v is Limiter<never> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Limiter).tryAcquire === 'function' &&
    typeof (v as Limiter).acquire === 'function' &&
    typeof (v as Limiter).pause === 'function'
  );
}

/** A limiter given as an instance, or made from `rateLimit` options (on the pipeline's clock). */
function limiterOf(
  v: unknown,
  field: string,
  clock: Clock,
  owned: Limiter<never>[],
): Limiter<never> | undefined {
  if (v === undefined) return undefined;
  if (isLimiter(v)) return v;
  if (typeof v !== 'object' || v === null) throw configError(field, 'a limiter or rateLimit options', v);
  const o = v as RateLimitOptions<never>;
  try {
    const lim = rateLimit<never>({ ...o, clock: o.clock ?? clock });
    owned.push(lim);
    return lim;
  } catch (e) {
    if (!isSluiceError(e) || e.code !== 'CONFIG_INVALID') throw e;
    const inner = String((e.context as { field?: unknown } | undefined)?.field ?? 'rateLimit');
    const name = `${field}${inner.replace(/^rateLimit/, '')}`;
    throw new SluiceError('CONFIG_INVALID', e.message.replace(`\`${inner}\``, `\`${name}\``), {
      context: { ...e.context, field: name },
    });
  }
}

/** The priority of a topic event: its `priority` header when it is a finite number, else 0. */
export function eventPriority(e: LogEvent<unknown>): number {
  const h = e.headers?.[PRIORITY_HEADER];
  if (h === undefined) return 0;
  const n = Number(h);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Reads the flow options of `c` (already shape-checked by zod). `keyed`: the stage has a
 * `partitionBy` (per-key concurrency applies). `defaultPriority`: the priority of items without
 * a `priority` option (topic sources: the event header).
 * @throws SluiceError `CONFIG_INVALID` naming the field (`fairness: 'weighted'` without
 *   `weight`, `priorityAging` not a duration > 0, limiter options).
 */
export function flowConfig<T>(
  c: Pick<
    ConcurrentOptions<unknown, T>,
    'rateLimit' | 'perKey' | 'fairness' | 'weight' | 'priority' | 'priorityAging'
  >,
  clock: Clock,
  keyed: boolean,
  defaultPriority: ((item: T) => unknown) | undefined,
): FlowConfig<T> {
  const owned: Limiter<never>[] = [];
  const stageLimiter = limiterOf(c.rateLimit, 'concurrent.rateLimit', clock, owned) as Limiter<T> | undefined;
  const keyLimiter = limiterOf(c.perKey?.rateLimit, 'concurrent.perKey.rateLimit', clock, owned);
  const perKey = keyed ? (c.perKey?.concurrency ?? 1) : 1;
  const weighted = c.fairness === 'weighted' || (c.fairness === undefined && c.weight !== undefined);
  if (weighted && c.weight === undefined)
    throw configError(
      'concurrent.weight',
      "a function (key) => number > 0 with fairness 'weighted'",
      undefined,
    );
  const priorityOf = (c.priority as ((item: T) => unknown) | undefined) ?? defaultPriority;
  let agingMs: number | undefined;
  if (priorityOf !== undefined) {
    agingMs =
      c.priorityAging === undefined
        ? DEFAULT_PRIORITY_AGING_MS
        : parseDuration(c.priorityAging, 'concurrent.priorityAging');
    if (!(agingMs > 0)) throw configError('concurrent.priorityAging', 'a duration > 0', c.priorityAging);
  }
  const rank = weighted || agingMs !== undefined ? { agingMs, weighted } : undefined;
  return {
    perKey,
    stageLimiter,
    keyLimiter,
    owned,
    rank,
    priorityOf,
    weightOf: weighted ? (c.weight as (key: PartitionKey) => unknown) : undefined,
  };
}
