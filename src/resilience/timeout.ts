// timeout(): the throwing face of the attempt primitive for one call under a time limit.
import { type Clock, systemClock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import { AttemptPolicy } from './attempt/AttemptPolicy.ts';

/**
 * Runs `fn` with a time limit: one attempt of the attempt primitive ({@link AttemptPolicy})
 * with `timeout` set, no retry. `fn` receives a signal that aborts when the limit passes
 * (reason: the `TIMEOUT` error) or when `signal` aborts (reason: the caller's reason).
 *
 * The returned promise settles as soon as one of these happens, without waiting for `fn`
 * to notice its signal: it rejects with `TIMEOUT` (`retryable: true`, `context.timeoutMs`)
 * or `ABORTED`. A late rejection of `fn` after that is swallowed, never unhandled.
 *
 * @throws SluiceError `CONFIG_INVALID` when `ms` is not a duration.
 * @example
 * ```ts
 * const page = await timeout('2s', (signal) => fetch(url, { signal }).then((r) => r.text()), signal);
 * ```
 */
export function timeout<T>(
  ms: Duration,
  fn: (signal: AbortSignal) => Promise<T> | T,
  signal?: AbortSignal,
  clock: Clock = systemClock,
): Promise<T> {
  const policy = new AttemptPolicy({ timeout: ms, clock, backoff: 0 }, '');
  const options = {
    name: 'operation',
    abandonOnAbort: true,
    yieldRateLimited: true,
    ...(signal === undefined ? {} : { signal }),
  };
  return policy
    .execute((ctx) => fn(ctx.signal), options)
    .then((out) => {
      if (out.kind === 'ok') return out.value;
      // A RateLimitedError is not retried here: one call, one outcome.
      throw out.error;
    });
}
