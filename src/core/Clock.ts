// The injected Clock interface, sleepWith (abortable sleep on any clock's timers) and the real systemClock.
import { abortError } from './errors.ts';

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type Timer = { readonly __timer?: never } | object;

/**
 * The source of time for everything that waits: backoff, breakers, leases, restart windows,
 * heartbeats. Inject {@link ManualClock} (from `sluice/testing`) in tests to control time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Schedules `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Cancels a timer; a no-op for timers that already fired. */
  clearTimeout(t: Timer): void;
  /** Resolves after `ms`; rejects with `ABORTED` when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Implements {@link Clock.sleep} on top of `setTimeout`/`clearTimeout` of any clock. */
export function sleepWith(
  clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
  ms: number,
  signal?: AbortSignal,
) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, 'sleep'));
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(abortError(signal, 'sleep'));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The real clock: `Date.now()` and Node timers. Timers keep the process alive like ordinary
 * `setTimeout` (a pending retry must not let the process exit); long-lived components stop
 * theirs in `close()`.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal, 'sleep'));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(signal, 'sleep'));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
