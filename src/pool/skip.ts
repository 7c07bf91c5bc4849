// The skip marker an item function returns (or throws) to mark its item as skipped.

/**
 * Brand of skip markers. A registered symbol (`Symbol.for`), so a marker made by one copy of the
 * package (say `src/` loaded through tsconfig `paths`) is recognised by another (`dist/` run by
 * the CLI), and across module caches and bundles.
 */
const SKIP_BRAND: unique symbol = Symbol.for('sluice.skip');

/**
 * The marker returned (or thrown) by an item function to mark its item as skipped.
 * Create it with {@link skip}. `v instanceof SkipItem` and {@link isSkip} both check the brand,
 * not the prototype, so they hold for a marker made by another copy of Sluice.
 */
export class SkipItem {
  /** Why the item was skipped; reported as `ItemSkipped.reason`. */
  readonly reason: string;
  /** The brand ({@link isSkip} reads it). */
  readonly [SKIP_BRAND] = true;

  constructor(reason: string) {
    this.reason = reason;
  }

  /** `instanceof` by brand, so markers of another copy of the package match too. */
  static [Symbol.hasInstance](v: unknown): boolean {
    return isSkip(v);
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

/** True when `v` is a {@link SkipItem}, made by this or any other copy of the package. */
export function isSkip(v: unknown): v is SkipItem {
  // The typeof test keeps the common case (a primitive result) free of a property lookup.
  return typeof v === 'object' && v !== null && (v as { [SKIP_BRAND]?: unknown })[SKIP_BRAND] === true;
}
