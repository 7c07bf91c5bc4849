// The one deadline every network backend call honours: a call without an answer in time rejects with BACKEND_UNAVAILABLE.
import { unavailableError } from './errors.ts';

/**
 * Default deadline of one backend call (PostgreSQL, Redis), in ms: the whole call — waiting for a
 * connection, every round trip it makes, a transaction's statements — answers or rejects with
 * `BACKEND_UNAVAILABLE` within this time.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** Where a deadline applies, for the error it raises. */
export interface CallDeadline {
  /** Backend kind named in the error (`redis`, `postgres`). */
  readonly kind: string;
  /** The deadline in ms. */
  readonly ms: number;
  /** `host:port`, named in the message when known. */
  readonly endpoint?: string;
}

/**
 * Runs `call` under `deadline.ms` of wall-clock time (network timeouts are real time, never an
 * injected clock). When time runs out first, the promise rejects with `BACKEND_UNAVAILABLE`
 * (retryable, cause: "no answer within N ms"), `onExpired` runs (to drop the connection that
 * hung), and the call's own late result or error is ignored.
 */
export function withCallDeadline<T>(
  deadline: CallDeadline,
  what: string,
  call: () => Promise<T>,
  onExpired?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      const cause = new Error(`no answer within ${deadline.ms} ms (callTimeoutMs)`);
      reject(unavailableError(deadline.kind, cause, what, deadline.endpoint));
      try {
        onExpired?.();
      } catch {
        // Dropping a hung connection is best effort.
      }
    }, deadline.ms);
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (v) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(e);
      },
    );
  });
}
