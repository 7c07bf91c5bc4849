// Promises of a DistributedSupervisor's callers: wait for a condition on the model, or for a child to start.
import type { Clock } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';
import type { DistributedLifecycleEvent } from './dsupTypes.ts';

/** Conditions re-checked after every round and log read, each with a timeout. @internal */
export class DsupWaiters {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    private readonly subscribe: (fn: (e: DistributedLifecycleEvent) => void) => () => void,
  ) {}

  /** Re-checks every waiting condition. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `cond()` holds; `TIMEOUT` after `timeoutMs`. */
  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    const { clock } = this;
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clock.clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = clock.setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new SluiceError('TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${what}`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /**
   * Resolves with the node once child `id` reports started with a token above `after`; rejects
   * with `CHILD_FAILED` on a crash before, `NO_ELIGIBLE_NODE` when no node offers its behavior,
   * `TIMEOUT` after `timeoutMs`.
   */
  waitStarted(id: string, after: number, timeoutMs: number): Promise<{ id: string; node: string }> {
    const { clock } = this;
    return new Promise((resolve, reject) => {
      const off = this.subscribe((e) => {
        if (e.type === 'child_started' && e.id === id && e.fencingToken > after) {
          done();
          resolve({ id, node: e.node });
        } else if (e.type === 'child_stopped' && e.id === id && !e.normal && e.error !== undefined) {
          done();
          reject(
            new SluiceError('CHILD_FAILED', `Child "${id}" failed to start: ${e.error.message}`, {
              context: { id, error: e.error },
            }),
          );
        } else if (e.type === 'child_unplaceable' && e.id === id) {
          done();
          reject(noEligibleNode(id, e.behavior));
        }
      });
      const timer = clock.setTimeout(() => {
        off();
        reject(
          new SluiceError('TIMEOUT', `Child "${id}" did not start within ${timeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
      const done = () => {
        off();
        clock.clearTimeout(timer);
      };
    });
  }
}

/** `NO_ELIGIBLE_NODE`: no live node of the supervisor has registered `behavior`. */
export function noEligibleNode(id: string, behavior: string): SluiceError {
  return new SluiceError(
    'NO_ELIGIBLE_NODE',
    `Child "${id}" cannot be placed: no live node has the behavior "${behavior}" registered`,
    { retryable: true, context: { id, behavior } },
  );
}
