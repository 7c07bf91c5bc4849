// Failure details of an item and the call of the pipeline's `onError` handler.
import { SluiceError } from '../core/errors.ts';
import type { Entry } from './Lane.ts';
import type { ErrorHandler, FailureInfo } from './types.ts';

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** The {@link FailureInfo} of entry `e` on worker `workerId` (-1: it never reached a worker). @internal */
export function failureInfo(workerId: number, e: Entry<unknown>): FailureInfo {
  const info: FailureInfo = {
    seq: e.seq,
    key: e.key,
    partition: e.partition,
    workerId,
    attempts: e.attempts,
  };
  return e.offset === undefined ? info : { ...info, offset: e.offset };
}

/**
 * Calls `onError` (if any), then `done` — after a returned promise settled, so the item's key
 * stays blocked (and a checkpoint never passes it) until its failure is recorded. A handler
 * that throws or rejects calls `fail` with `ERROR_HANDLER_FAILED` instead.
 * @internal
 */
export function callOnError<T>(
  onError: ErrorHandler<T> | undefined,
  error: Error,
  item: T,
  info: FailureInfo,
  done: () => void,
  fail: (e: SluiceError) => void,
): void {
  if (!onError) {
    done();
    return;
  }
  let r: unknown;
  try {
    r = onError(error, item, info);
  } catch (handlerError) {
    fail(new SluiceError('ERROR_HANDLER_FAILED', 'onError threw', { cause: handlerError }));
    return;
  }
  if (isThenable(r)) {
    r.then(done, (handlerError) =>
      fail(new SluiceError('ERROR_HANDLER_FAILED', 'onError rejected', { cause: handlerError })),
    );
  } else done();
}
