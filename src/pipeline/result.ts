// `Ok`/`Err` results a process function may return instead of throwing.
/** A successful outcome returned by a process function. */
export interface OkResult<T> {
  readonly ok: true;
  readonly value: T;
}
/** A failed outcome returned (instead of thrown) by a process function. */
export interface ErrResult {
  readonly ok: false;
  readonly error: Error;
}
/** Either outcome. */
export type Result<T> = OkResult<T> | ErrResult;

const RESULT = Symbol.for('sluice.result');

/**
 * Wraps a value as a success.
 * @example
 * ```ts
 * .process(async (o) => o.total > 0 ? Ok(o) : Err(new Error('empty order')))
 * ```
 */
export function Ok<T>(value: T): OkResult<T> {
  return { ok: true, value, [RESULT]: true } as OkResult<T>;
}

/** Wraps an error as a failure; treated exactly like a thrown error (retried, then `onError`). */
export function Err(error: unknown): ErrResult {
  const e = error instanceof Error ? error : new Error(String(error));
  return { ok: false, error: e, [RESULT]: true } as ErrResult;
}

/** True for values built by {@link Ok} or {@link Err}. */
export function isResult(v: unknown): v is Result<unknown> {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[RESULT] === true;
}
