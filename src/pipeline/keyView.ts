// What a running pipeline's keys are doing: waiting keys (backoff, limiter, breaker) and the keys holding most items.
import type { Entry, LaneQueue } from './Lane.ts';
import type { WaitInfo, WaitReason } from './RetryTimers.ts';

/** A key whose head item waits before running again. */
export interface WaitingKey {
  readonly key: string | number;
  readonly partition: number;
  /** `retrying` (backoff after a failed attempt) or `parked` (rate limited, or the breaker is open). */
  readonly state: 'retrying' | 'parked';
  readonly reason: WaitReason;
  /** Clock time the key's head item first started (how long the key has been held up). */
  readonly since: number;
  /** Clock time the head item runs again. */
  readonly until: number;
  /** Attempts counted for the head item so far. */
  readonly attempts: number;
  /** Items of the key queued behind the head (blocked by it). */
  readonly blocked: number;
  /** Message of the error that caused the wait. */
  readonly error: string;
}

/** A key and the items it holds in the pipeline (running, waiting or queued). */
export interface HotKey {
  readonly key: string | number;
  readonly items: number;
}

/** Waiting and hot keys of a run. */
export interface KeyView {
  readonly waiting: readonly WaitingKey[];
  readonly hot: readonly HotKey[];
}

/**
 * Builds the key view from the pending waits and the lanes' key queues: O(items in flight),
 * computed only when asked (the hot path keeps no per-key counters). `hotLimit` keys with the
 * most items, at least 2 each, are listed.
 * @internal
 */
export function keyView<T>(
  waits: readonly { payload: { e: Entry<T>; q: { backlog: number } }; info: WaitInfo | undefined }[],
  workers: readonly { readonly queue: Pick<LaneQueue<unknown>, 'keySizes'> }[],
  hotLimit = 10,
): KeyView {
  const waiting: WaitingKey[] = [];
  for (const { payload, info } of waits) {
    if (info === undefined) continue;
    const e = payload.e;
    waiting.push({
      key: e.key as string | number,
      partition: e.partition,
      state: info.reason === 'backoff' ? 'retrying' : 'parked',
      reason: info.reason,
      since: e.firstStartedAt ?? info.since,
      until: info.until,
      attempts: e.attempts,
      blocked: payload.q.backlog,
      error: info.error,
    });
  }
  waiting.sort((a, b) => a.since - b.since);
  const hot: HotKey[] = [];
  for (const w of workers)
    for (const [key, items] of w.queue.keySizes())
      if (items > 1) hot.push({ key: key as string | number, items });
  hot.sort((a, b) => b.items - a.items);
  return { waiting, hot: hot.slice(0, hotLimit) };
}

/** Why a head item waits: `backoff` for a retry; for a park, `breaker` (circuit open) or `limiter`. @internal */
export function waitReason(error: unknown, retry: boolean): WaitReason {
  if (retry) return 'backoff';
  return (error as { code?: unknown } | null)?.code === 'CIRCUIT_OPEN' ? 'breaker' : 'limiter';
}
