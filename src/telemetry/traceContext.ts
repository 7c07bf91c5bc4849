// W3C trace context in event headers: `traceparent`/`tracestate` written and read by Sluice itself.
import type { Context, SpanContext } from '@opentelemetry/api';
import type { OtelApi } from './loadApi.ts';

/** Header holding the W3C `traceparent` of the producer (`00-<trace id>-<span id>-<flags>`). */
export const TRACEPARENT_HEADER = 'traceparent';
/** Header holding the W3C `tracestate` of the producer, when it has one. */
export const TRACESTATE_HEADER = 'tracestate';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The `traceparent` text of a span context. @internal */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A remote span context read from a `traceparent` (and `tracestate`), or `undefined` when malformed. @internal */
export function parseTraceparent(
  api: OtelApi,
  traceparent: string | undefined,
  tracestate: string | undefined,
): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (!m) return undefined;
  const sc: SpanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
  };
  if (!api.isSpanContextValid(sc)) return undefined;
  if (tracestate !== undefined && tracestate !== '') sc.traceState = api.createTraceState(tracestate);
  return sc;
}

/** The span context stored in headers, if any. @internal */
export function spanContextOf(
  api: OtelApi,
  headers: Readonly<Record<string, string>> | undefined,
): SpanContext | undefined {
  if (headers === undefined) return undefined;
  return parseTraceparent(api, headers[TRACEPARENT_HEADER], headers[TRACESTATE_HEADER]);
}

/** The span context of the active span, when there is a valid one. @internal */
export function activeSpanContext(
  api: OtelApi,
  ctx: Context = api.context.active(),
): SpanContext | undefined {
  const sc = api.trace.getSpanContext(ctx);
  return sc !== undefined && api.isSpanContextValid(sc) ? sc : undefined;
}

/** `traceparent` (and `tracestate`) headers of a span context. @internal */
export function traceHeaders(sc: SpanContext): Record<string, string> {
  const out: Record<string, string> = { [TRACEPARENT_HEADER]: formatTraceparent(sc) };
  const ts = sc.traceState?.serialize();
  if (ts !== undefined && ts !== '') out[TRACESTATE_HEADER] = ts;
  return out;
}
