/**
 * The marker returned (or thrown) by an item function to mark its item as skipped.
 * Create it with {@link skip}.
 */
export class SkipItem {
  /** Why the item was skipped; reported as `ItemSkipped.reason`. */
  readonly reason: string;

  constructor(reason: string) {
    this.reason = reason;
  }
}

/**
 * Marks the current item as skipped: `return skip('duplicate')` (or `throw skip(...)`) from an
 * item function and the item's result becomes `{ status: 'skipped', reason }`. Skipped items are
 * never retried and do not count as failures.
 *
 * @example
 * ```ts
 * await mapConcurrent(orders, async (o) => (o.paid ? skip('already paid') : charge(o)), { concurrency: 4 });
 * ```
 */
export function skip(reason = 'skipped'): SkipItem {
  return new SkipItem(reason);
}

/** True when `v` is a {@link SkipItem}. */
export function isSkip(v: unknown): v is SkipItem {
  // The typeof test keeps the common case (a primitive result) free of a prototype walk.
  return typeof v === 'object' && v !== null && v instanceof SkipItem;
}
