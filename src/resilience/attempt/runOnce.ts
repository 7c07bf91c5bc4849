// One attempt: calls the work once with its signal, under an optional per-attempt timeout.
import type { Clock, Timer } from '../../core/Clock.ts';
import { abortError, SluiceError } from '../../core/errors.ts';
import type { AttemptFn } from './types.ts';

/** How one attempt ended. `value` is set when `ok`. */
export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Settings of {@link runOnce}. */
export interface RunOnceSettings {
  readonly attempt: number;
  /** The caller's signal (a never-aborting one when the caller gave none). */
  readonly signal: AbortSignal;
  readonly timeoutMs: number | undefined;
  readonly clock: Clock;
  readonly abandonOnAbort: boolean;
  readonly name: string;
  readonly context: Record<string, unknown> | undefined;
}

/** True for promises and other thenables. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v instanceof Promise ||
    (v !== null &&
      (typeof v === 'object' || typeof v === 'function') &&
      typeof (v as { then?: unknown }).then === 'function')
  );
}

/** The `TIMEOUT` error of an attempt: retryable, with `attempt` and `timeoutMs` in its context. */
export function timeoutError(s: RunOnceSettings, timeoutMs: number): SluiceError {
  return new SluiceError('TIMEOUT', `The ${s.name} timed out after ${timeoutMs} ms`, {
    retryable: true,
    context: { ...s.context, attempt: s.attempt, timeoutMs },
  });
}

/**
 * Runs one attempt. Without a timeout the work gets the caller's signal itself (nothing is
 * allocated for it); with one, it gets its own signal, chained to the caller's, that aborts with
 * the `TIMEOUT` error when the limit passes — the attempt then settles at once, without waiting
 * for work that ignores its signal. Never rejects.
 */
export function runOnce<T>(fn: AttemptFn<T>, s: RunOnceSettings): Promise<Settled<T>> {
  if (s.timeoutMs === undefined && !s.abandonOnAbort) return runPlain(fn, s.attempt, s.signal);
  return runGuarded(fn, s);
}

async function runPlain<T>(fn: AttemptFn<T>, attempt: number, signal: AbortSignal): Promise<Settled<T>> {
  try {
    let v: unknown = fn({ attempt, signal });
    if (isThenable(v)) v = await v;
    return { ok: true, value: v as T };
  } catch (error) {
    return { ok: false, error };
  }
}

function runGuarded<T>(fn: AttemptFn<T>, s: RunOnceSettings): Promise<Settled<T>> {
  const parent = s.signal;
  const ctrl = new AbortController();
  if (parent.aborted) ctrl.abort(parent.reason);
  return new Promise<Settled<T>>((resolve) => {
    let settled = false;
    let timer: Timer | undefined;
    const settle = (r: Settled<T>) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) s.clock.clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = () => {
      ctrl.abort(parent.reason);
      if (s.abandonOnAbort) settle({ ok: false, error: abortError(parent, s.name) });
    };
    if (!parent.aborted) parent.addEventListener('abort', onAbort, { once: true });
    const ms = s.timeoutMs;
    if (ms !== undefined) {
      timer = s.clock.setTimeout(() => {
        timer = undefined;
        const err = timeoutError(s, ms);
        ctrl.abort(err);
        settle({ ok: false, error: err });
      }, ms);
    }
    let v: unknown;
    try {
      v = fn({ attempt: s.attempt, signal: ctrl.signal });
    } catch (error) {
      settle({ ok: false, error });
      return;
    }
    if (isThenable(v)) {
      // A late result after a timeout or an abandon is ignored (never an unhandled rejection).
      Promise.resolve(v).then(
        (value) => settle({ ok: true, value: value as T }),
        (error: unknown) => settle({ ok: false, error }),
      );
    } else {
      settle({ ok: true, value: v as T });
    }
  });
}
