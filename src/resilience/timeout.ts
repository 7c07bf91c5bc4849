import { type Clock, systemClock } from '../core/Clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { abortError, SluiceError } from '../core/errors.ts';

/**
 * Runs `fn` with a time limit. `fn` receives a signal that aborts when the limit passes
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
  const limit = parseDuration(ms, 'timeout');
  if (signal?.aborted) return Promise.reject(abortError(signal, 'operation'));
  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = () => {
      if (!finish()) return;
      const err = abortError(signal, 'operation');
      inner.abort(signal?.reason ?? err);
      reject(err);
    };
    const timer = clock.setTimeout(() => {
      if (!finish()) return;
      const err = new SluiceError('TIMEOUT', `The operation timed out after ${limit}ms`, {
        retryable: true,
        context: { timeoutMs: limit },
      });
      inner.abort(err);
      reject(err);
    }, limit);
    signal?.addEventListener('abort', onAbort, { once: true });
    let result: Promise<T>;
    try {
      result = Promise.resolve(fn(inner.signal));
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (v) => {
        if (finish()) resolve(v);
      },
      (e: unknown) => {
        if (finish()) reject(e);
      },
    );
  });
}
