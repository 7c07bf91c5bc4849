// ConditionWaiters: promises that settle once a condition over changing state holds, re-checked on notify.
/**
 * Promises that settle once a condition over changing state holds. The owner calls
 * {@link ConditionWaiters.notify} whenever that state changes (a message arrived, a process
 * exited) and every pending condition is checked again.
 */
export class ConditionWaiters {
  private readonly waiters = new Set<() => void>();

  /**
   * Resolves when `cond` holds (checked now and on every {@link notify}); rejects after
   * `timeoutMs` with an error naming `what`, followed by `describe()` to show the state then.
   */
  waitFor(cond: () => boolean, timeoutMs: number, what: string, describe: () => string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Checks every pending condition again. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
