// JSON encoding of payloads, metadata and errors, with one-line errors naming the offending path.
import { SluiceError } from '../../core/errors.ts';

/**
 * Payloads, metadata and errors are stored as JSON text by every backend, so what a reader
 * gets back is exactly `JSON.parse(JSON.stringify(value))`: `Date` becomes an ISO string,
 * `undefined` properties disappear, `-0` becomes `0`.
 */

/** Why a value cannot be stored as JSON, and where in it. */
interface Unserializable {
  /** Path from the field, e.g. `events[0].payload.amount`. */
  readonly path: string;
  /** What is there, e.g. `a BigInt (12n)`, or `a circular reference to events[0].payload`. */
  readonly what: string;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** The first BigInt or circular reference in `value` (as JSON.stringify walks it), if any. */
function findUnserializable(
  value: unknown,
  path: string,
  stack: Map<object, string>,
): Unserializable | undefined {
  let v = value;
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    try {
      v = (v as { toJSON: () => unknown }).toJSON();
    } catch {
      return undefined;
    }
  }
  if (typeof v === 'bigint') return { path, what: `a BigInt (${v}n)` };
  if (typeof v !== 'object' || v === null) return undefined;
  const seen = stack.get(v);
  if (seen !== undefined) return { path, what: `a circular reference to \`${seen}\`` };
  stack.set(v, path);
  try {
    const entries: [string | number, unknown][] = Array.isArray(v)
      ? v.map((x, i) => [i, x] as [number, unknown])
      : Object.entries(v);
    for (const [k, x] of entries) {
      const found = findUnserializable(x, childPath(path, k), stack);
      if (found !== undefined) return found;
    }
    return undefined;
  } finally {
    stack.delete(v);
  }
}

/**
 * JSON text of `value`; `CONFIG_INVALID` naming `field` when it is not JSON-serializable. The
 * message is one line and names the path and the type, e.g. "Expected `events[0].payload` to be
 * JSON-serializable, got a BigInt (12n) at `events[0].payload.amount` (convert it to a string
 * or a number)".
 */
export function encodeJson(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    const found = findUnserializable(value, field, new Map());
    const reason =
      found === undefined
        ? `${String((e as Error)?.message ?? e).split('\n')[0]}`
        : `${found.what} at \`${found.path}\`${found.what.startsWith('a BigInt') ? ' (convert it to a string or a number)' : ''}`;
    throw new SluiceError('CONFIG_INVALID', `Expected \`${field}\` to be JSON-serializable, got ${reason}`, {
      cause: e,
      context: { field, ...(found === undefined ? {} : { path: found.path }) },
    });
  }
  if (text === undefined) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `Expected \`${field}\` to be a JSON-serializable value, got ${typeof value === 'function' ? 'a function' : String(value)}`,
      { context: { field } },
    );
  }
  return text;
}

/** Parses JSON text written by {@link encodeJson}. */
export function decodeJson<T = unknown>(text: string): T {
  return JSON.parse(text) as T;
}
