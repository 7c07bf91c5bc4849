import { configError } from '../../core/errors.ts';

/**
 * Payloads, metadata and errors are stored as JSON text by every backend, so what a reader
 * gets back is exactly `JSON.parse(JSON.stringify(value))`: `Date` becomes an ISO string,
 * `undefined` properties disappear, `-0` becomes `0`.
 */

/** JSON text of `value`; `CONFIG_INVALID` naming `field` when it is not JSON-serializable. */
export function encodeJson(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw configError(field, `JSON-serializable (${(e as Error).message})`, value);
  }
  if (text === undefined) throw configError(field, 'a JSON-serializable value', value);
  return text;
}

/** Parses JSON text written by {@link encodeJson}. */
export function decodeJson<T = unknown>(text: string): T {
  return JSON.parse(text) as T;
}
