// Checks the keys returned by `partitionBy` (string or finite number) and maps them to virtual partitions.
import { SluiceError } from '../core/errors.ts';
import { partitionForKey } from '../core/hash.ts';

/** What `partitionBy` may return: items with equal keys (`===`, so `1` and `'1'` differ) run one at a time, in order. */
export type PartitionKey = string | number;

/** The type of a rejected key, as error messages name it ("an object", "null", "NaN", ...). */
export function keyTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return String(v); // NaN, Infinity, -Infinity
  const t = typeof v;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** Whether `v` is a usable key: a string or a finite number. */
export function isPartitionKey(v: unknown): v is PartitionKey {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** The `CONFIG_INVALID` error for a key of the wrong type. */
export function keyError(v: unknown, seq: number): SluiceError {
  const type = keyTypeName(v);
  return new SluiceError(
    'CONFIG_INVALID',
    `Expected the key returned by \`partitionBy\` to be a string or a number, got ${type}`,
    { context: { field: 'partitionBy', type, seq } },
  );
}

/** The virtual partition of a key (murmur3 of its string form). */
export function slotOfKey(key: PartitionKey, partitions: number): number {
  return partitionForKey(typeof key === 'string' ? key : String(key), partitions);
}
