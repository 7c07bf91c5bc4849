// Shared option pieces of the connectors: key selection, payload codec, option schemas.
import { z } from 'zod';
import { KEY_HEADER, type KeySelector } from '../contract.ts';

/** Returns the partition key of a message: the selector's, else the `sluice-key` header, else the subject. */
export function selectKey<T>(
  selector: KeySelector<T> | undefined,
  payload: T,
  headers: Readonly<Record<string, string>>,
  subject: string,
): string {
  if (typeof selector === 'function') return String(selector(payload, { headers, subject }));
  const h = selector?.header ?? KEY_HEADER;
  return headers[h] ?? subject;
}

/** Default body codec: JSON. */
export const jsonCodec = {
  encode: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  decode: (b: Uint8Array): unknown =>
    JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')),
};

/** Zod schema of a {@link KeySelector}. */
export const keySelectorSchema = z
  .union(
    [
      z.object({ header: z.string().min(1) }),
      z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function'),
    ],
    { error: 'a function (payload, message) => key or { header: string }' },
  )
  .optional();

/** Zod schema of an optional function. */
export const optionalFn = (what: string) =>
  z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', { error: what }).optional();

/** Zod schema of an integer >= 1. */
export const int1 = z.number({ error: 'an integer >= 1' }).int('an integer >= 1').min(1, 'an integer >= 1');

/** Converts broker header values to strings (Buffers decoded as UTF-8, objects as JSON). */
export function stringHeaders(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') out[k] = v;
    else if (Buffer.isBuffer(v)) out[k] = v.toString('utf8');
    else if (typeof v === 'object') out[k] = JSON.stringify(v);
    else out[k] = String(v);
  }
  return out;
}
