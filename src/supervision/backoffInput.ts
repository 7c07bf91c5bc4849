// resolveBackoff: turns a supervisor's `backoff` option into a Backoff.
import type { Backoff } from '../resilience/Backoff.ts';
import { type BackoffSpec, toBackoff } from '../resilience/backoffFactories.ts';

/** Turns the `backoff` option of a supervisor (a {@link Backoff} or any {@link BackoffSpec}) into a {@link Backoff}. */
export function resolveBackoff(spec: unknown, field: string): Backoff {
  return toBackoff(spec as BackoffSpec, field);
}
