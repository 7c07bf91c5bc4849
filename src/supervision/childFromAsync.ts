// childFromAsync: an async function as a supervised child, stopped through its AbortSignal.
import type { ChildHandle, ChildStart, ChildStartContext } from './types.ts';

/** What an async child function receives. */
export interface AsyncChildContext<A = unknown> {
  /** Aborted when the child is asked to stop: return (or throw) soon after. */
  readonly signal: AbortSignal;
  /** 1 for the first start, then incremented on every restart. */
  readonly attempt: number;
  /** `startChild(args)` arguments of a `simple_one_for_one` child. */
  readonly args?: A;
}

/**
 * Makes a child out of an async function: the function's settlement is the child's exit.
 * Returning is a normal exit, throwing is a crash. `stop(reason)` aborts the signal and waits for
 * the function to settle; whatever it settles with after a stop request counts as a normal exit.
 *
 * @example
 * ```ts
 * const spec: ChildSpec = {
 *   id: 'poller',
 *   restart: 'permanent',
 *   start: childFromAsync(async ({ signal }) => {
 *     while (!signal.aborted) await pollOnce(signal);
 *   }),
 * };
 * ```
 */
export function childFromAsync<A = unknown>(fn: (ctx: AsyncChildContext<A>) => unknown): ChildStart<A> {
  return (ctx: ChildStartContext<A>): ChildHandle => {
    const controller = new AbortController();
    let stopRequested = false;
    const onParentAbort = () => {
      stopRequested = true;
      controller.abort(ctx.signal.reason);
    };
    if (ctx.signal.aborted) onParentAbort();
    else ctx.signal.addEventListener('abort', onParentAbort, { once: true });
    const run = (async () =>
      fn({
        signal: controller.signal,
        attempt: ctx.attempt,
        ...(ctx.args === undefined ? {} : { args: ctx.args }),
      }))();
    const done = run.then(
      () => {
        ctx.signal.removeEventListener('abort', onParentAbort);
      },
      (e: unknown) => {
        ctx.signal.removeEventListener('abort', onParentAbort);
        if (stopRequested) return;
        throw e;
      },
    );
    // Observed by the supervisor; this keeps an unobserved crash from being an unhandled rejection.
    done.catch(() => {});
    return {
      kind: 'async',
      done,
      stop(reason?: unknown) {
        stopRequested = true;
        controller.abort(reason ?? 'shutdown');
        return done.then(
          () => {},
          () => {},
        );
      },
    };
  };
}
