// retryAfterFromResponse: reads HTTP Retry-After (seconds or HTTP-date) from a 429/503 response.
import type { Clock } from '../core/Clock.ts';
import { systemClock } from '../core/Clock.ts';

/** What {@link retryAfterFromResponse} accepts: a fetch `Response`, or anything with a status and headers. */
export interface ResponseLike {
  readonly status?: number;
  readonly statusCode?: number;
  readonly headers?:
    | { get(name: string): string | null | undefined }
    | Readonly<Record<string, string | readonly string[] | number | undefined>>;
}

/** Statuses whose `Retry-After` means "slow down": 429 Too Many Requests, 503 Service Unavailable. */
const THROTTLED = new Set([429, 503]);

/**
 * The delay a 429 or 503 response asks for, in ms, read from its `Retry-After` header: either
 * delay-seconds (`"120"`, `"1.5"`) or an HTTP-date (then the time from `clock.now()` to that date,
 * 0 when it is past). `undefined` for other statuses, a missing or unreadable header, or a
 * response without a status. Headers may be a `Headers` object (fetch), a Node
 * `IncomingHttpHeaders` record (any case), or a plain record.
 *
 * @example
 * ```ts
 * const res = await fetch(url);
 * const wait = retryAfterFromResponse(res);
 * if (wait !== undefined) await limiter.pause(wait, tenant);
 * ```
 */
export function retryAfterFromResponse(
  res: ResponseLike,
  clock: Pick<Clock, 'now'> = systemClock,
): number | undefined {
  const status = res.status ?? res.statusCode;
  if (status === undefined || !THROTTLED.has(status)) return undefined;
  const raw = header(res.headers, 'retry-after');
  return raw === undefined ? undefined : parseRetryAfter(raw, clock.now());
}

/** Parses a `Retry-After` value at time `now`: ms, or `undefined` when unreadable. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands); must name a weekday or GMT.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function header(headers: ResponseLike['headers'], name: string): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const v = (headers as { get(n: string): string | null | undefined }).get(name);
    return v ?? undefined;
  }
  const rec = headers as Readonly<Record<string, string | readonly string[] | number | undefined>>;
  for (const k of Object.keys(rec)) {
    if (k.toLowerCase() !== name) continue;
    const v = rec[k];
    if (Array.isArray(v)) return v[0] === undefined ? undefined : String(v[0]);
    return v === undefined ? undefined : String(v);
  }
  return undefined;
}
