// SluiceError, UnrecoverableError and the stable codes, the cross-thread guard, (de)serialization, abort and config errors.
/**
 * Stable error codes used across Sluice. The code is the contract; messages may change.
 */
export type SluiceErrorCode =
  | 'CONFIG_INVALID'
  | 'MAX_RESTARTS_EXCEEDED'
  | 'CIRCUIT_OPEN'
  | 'LEASE_LOST'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'UNRECOVERABLE'
  | 'WORKER_CRASHED'
  | 'CLOSED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_STATE'
  | 'BACKEND_UNAVAILABLE'
  | 'FENCED'
  | 'HEALTH_CHECK_FAILED'
  | 'CHILD_FAILED'
  | 'RETRIES_EXHAUSTED'
  | 'EXPIRED'
  | (string & {});

/**
 * Brand of Sluice errors: the names of the error's classes (`['UnrecoverableError',
 * 'SluiceError']`), stored under a registered symbol (`Symbol.for`) so that `instanceof` and the
 * guards below recognise an error made by another copy of the package (say `src/` loaded through
 * tsconfig `paths` while the CLI runs `dist/`).
 */
const ERROR_BRAND: unique symbol = Symbol.for('sluice.error');

/** The class names branded on `e`, when it is a Sluice error of any copy of the package. */
function brandOf(e: unknown): readonly string[] | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const brand = (e as { [ERROR_BRAND]?: unknown })[ERROR_BRAND];
  return Array.isArray(brand) ? (brand as string[]) : undefined;
}

/** Options accepted by {@link SluiceError}. */
export interface SluiceErrorOptions {
  /** Whether retrying the same operation may succeed. */
  retryable?: boolean;
  /** The underlying error. */
  cause?: unknown;
  /** Structured context (field names, ids, values) that helps diagnose the error. */
  context?: Record<string, unknown>;
}

/**
 * Base class of every error Sluice throws. Carries a stable `code`, a `retryable` flag,
 * optional structured `context` and the `cause`.
 *
 * @example
 * ```ts
 * try { await pool.run(x) } catch (e) { if (isSluiceError(e) && e.code === 'TIMEOUT') ... }
 * ```
 */
export class SluiceError extends Error {
  /** Stable machine-readable code. */
  readonly code: SluiceErrorCode;
  /** Whether retrying may succeed. */
  readonly retryable: boolean;
  /** Structured context. */
  readonly context: Record<string, unknown>;

  constructor(code: SluiceErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
    const names: string[] = [];
    for (let c: { name: string } | null = new.target; c && c !== Error; c = Object.getPrototypeOf(c))
      names.push(c.name);
    Object.defineProperty(this, ERROR_BRAND, { value: names, enumerable: false });
  }

  /**
   * `e instanceof SluiceError` (or a subclass such as `UnrecoverableError`) holds for errors of
   * this class made by any copy of the package: it checks the brand, then the prototype.
   */
  static override [Symbol.hasInstance](e: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, e)) return true;
    return brandOf(e)?.includes(this.name) ?? false;
  }

  /** A plain JSON form, safe to send across threads, processes or store in a backend. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/**
 * An error that must not be retried: the item goes straight to the dead-letter queue.
 *
 * @example
 * ```ts
 * if (!order.id) throw new UnrecoverableError('order without id');
 * ```
 */
export class UnrecoverableError extends SluiceError {
  constructor(message: string, options: Omit<SluiceErrorOptions, 'retryable'> = {}) {
    super('UNRECOVERABLE', message, { ...options, retryable: false });
    this.name = 'UnrecoverableError';
  }
}

/** The plain JSON form of an error. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
  stack?: string;
  context?: Record<string, unknown>;
  /** W3C trace context of the dead letter that stored this error, when tracing is on (see docs/tracing.md). */
  traceparent?: string;
  /** W3C `tracestate` that goes with {@link traceparent}, when there is one. */
  tracestate?: string;
}

/**
 * Type guard that works across copies of the package (by brand) and across realms (worker
 * threads, child processes, deserialized errors: by shape, not by prototype).
 */
export function isSluiceError(e: unknown): e is SluiceError {
  if (brandOf(e) !== undefined) return true;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string' &&
    typeof (e as { retryable?: unknown }).retryable === 'boolean'
  );
}

/** True when `e` is (or looks like) an {@link UnrecoverableError}. */
export function isUnrecoverable(e: unknown): boolean {
  return (
    (brandOf(e)?.includes('UnrecoverableError') ?? false) || (isSluiceError(e) && e.code === 'UNRECOVERABLE')
  );
}

/** Turns anything thrown into a plain serializable object. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
    const err = e as Error & { code?: unknown; retryable?: unknown; context?: unknown };
    const out: SerializedError = { name: String(err.name ?? 'Error'), message: String(err.message) };
    if (typeof err.code === 'string') out.code = err.code;
    if (typeof err.retryable === 'boolean') out.retryable = err.retryable;
    if (typeof err.stack === 'string') out.stack = err.stack;
    if (typeof err.context === 'object' && err.context !== null) {
      out.context = err.context as Record<string, unknown>;
    }
    return out;
  }
  return { name: 'Error', message: String(e) };
}

/** Rebuilds an `Error` (a {@link SluiceError} when a code is present) from its serialized form. */
export function deserializeError(s: SerializedError): Error {
  if (s.code !== undefined) {
    const e =
      s.code === 'UNRECOVERABLE'
        ? new UnrecoverableError(s.message, s.context ? { context: s.context } : {})
        : new SluiceError(s.code, s.message, {
            retryable: s.retryable ?? false,
            ...(s.context ? { context: s.context } : {}),
          });
    if (s.stack !== undefined) e.stack = s.stack;
    return e;
  }
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}

/** Wraps any thrown value into an `Error`. */
export function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : JSON.stringify(e));
}

/** A `CONFIG_INVALID` error naming the field and the received value. */
export function configError(field: string, expected: string, got: unknown): SluiceError {
  return new SluiceError(
    'CONFIG_INVALID',
    `Expected \`${field}\` to be ${expected}, got ${describeValue(got)}`,
    {
      context: { field, got },
    },
  );
}

/** Short printable description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

/** The error used when an operation is cancelled through an `AbortSignal`. */
export function abortError(signal?: AbortSignal, what = 'operation'): SluiceError {
  const reason: unknown = signal?.reason;
  if (isSluiceError(reason)) return reason;
  return new SluiceError('ABORTED', `The ${what} was aborted`, { cause: reason });
}

/** Throws an `ABORTED` error when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}
