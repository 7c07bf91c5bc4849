// The span hooks engines call: attempts, commits, batches, dead letters, replays, saga steps.
import type { Attributes, Context, Link, Span, SpanContext, SpanKind, Tracer } from '@opentelemetry/api';
import { type OtelApi, tracingApi } from './loadApi.ts';
import { activeSpanContext, spanContextOf, traceHeaders } from './traceContext.ts';

/** Instrumentation scope name of every Sluice span. */
export const TRACER_NAME = 'sluice';
/** At most this many links on one commit or batch span (the first events of the batch). */
export const MAX_LINKS = 128;

let cached: { readonly provider: unknown; readonly tracer: Tracer } | undefined;
/** Sluice's tracer from the global provider (asked again when the provider was replaced). */
function tracer(api: OtelApi): Tracer {
  const provider = api.trace.getTracerProvider();
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer(TRACER_NAME) };
  return cached.tracer;
}

/** The context of the last attempt of an item (or of its payload): the parent of its dead letter. */
const lastAttempt = new WeakMap<object, SpanContext>();

/** How a span ended, as the `sluice.outcome` attribute. */
export type SpanOutcome = 'ok' | 'error' | 'rate_limited' | 'circuit_open';

/** The outcome of an error thrown in a span. @internal */
export function outcomeOf(error: unknown): SpanOutcome {
  const e = error as { name?: unknown; code?: unknown } | null;
  if (e?.name === 'RateLimitedError' || e?.code === 'RATE_LIMITED') return 'rate_limited';
  if (e?.code === 'CIRCUIT_OPEN') return 'circuit_open';
  return 'error';
}

function finish(api: OtelApi, span: Span, error: unknown, failed: boolean): void {
  if (!failed) {
    span.setAttribute('sluice.outcome', 'ok');
  } else {
    const outcome = outcomeOf(error);
    span.setAttribute('sluice.outcome', outcome);
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string') span.setAttribute('error.type', code);
    if (outcome === 'error') {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  span.end();
}

/** Where a span hangs: its parent (default: the active context) and its links. */
interface SpanPlace {
  readonly parent?: SpanContext | undefined;
  readonly links?: readonly Link[];
  readonly kind?: SpanKind;
  readonly attributes: Attributes;
}

function start(api: OtelApi, name: string, place: SpanPlace): { span: Span; ctx: Context } {
  const base = api.context.active();
  const parentCtx = place.parent === undefined ? base : api.trace.setSpanContext(base, place.parent);
  const span = tracer(api).startSpan(
    name,
    {
      kind: place.kind ?? api.SpanKind.INTERNAL,
      attributes: place.attributes,
      ...(place.links && place.links.length > 0 ? { links: [...place.links] } : {}),
    },
    parentCtx,
  );
  return { span, ctx: api.trace.setSpan(parentCtx, span) };
}

/** Runs `fn` (sync or async) inside a span that ends when `fn` settles; the value passes through. */
function within<R>(
  api: OtelApi,
  name: string,
  place: SpanPlace,
  fn: () => R,
  onStart?: (s: Span) => void,
): R {
  const { span, ctx } = start(api, name, place);
  onStart?.(span);
  let out: R;
  try {
    out = api.context.with(ctx, fn);
  } catch (error) {
    finish(api, span, error, true);
    throw error;
  }
  if (
    (typeof out === 'object' || typeof out === 'function') &&
    out !== null &&
    typeof (out as { then?: unknown }).then === 'function'
  ) {
    return (out as unknown as PromiseLike<unknown>).then(
      (v) => {
        finish(api, span, undefined, false);
        return v;
      },
      (error: unknown) => {
        finish(api, span, error, true);
        throw error;
      },
    ) as R;
  }
  finish(api, span, undefined, false);
  return out;
}

/** Drops `undefined` attribute values. */
function attrs(a: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out[k] = v;
  return out;
}

/** Headers of an item that is a log event (`{topic, headers}`), else `undefined`. */
function headersOf(item: unknown): Readonly<Record<string, string>> | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const h = (item as { headers?: unknown }).headers;
  return typeof h === 'object' && h !== null ? (h as Record<string, string>) : undefined;
}

/**
 * The `traceparent`/`tracestate` headers of the active span, for `append` to store on each event
 * that has none; `undefined` when the API is absent or no span is active.
 * @internal Called once per `append` batch.
 */
export function appendTraceHeaders(): Record<string, string> | undefined {
  const api = tracingApi();
  if (api === undefined) return undefined;
  const sc = activeSpanContext(api);
  return sc === undefined ? undefined : traceHeaders(sc);
}

/** What an attempt span says about the item. */
export interface AttemptInfo {
  readonly attempt: number;
  readonly key?: string | number | undefined;
  readonly partition?: number | undefined;
  readonly topic?: string | undefined;
  readonly offset?: number | undefined;
  readonly group?: string | undefined;
}

/**
 * Runs one attempt of `item` in a `sluice.attempt` span (kind CONSUMER). When the item is a log
 * event whose headers carry a `traceparent`, the span is a child of that producer context;
 * otherwise of the active context. Without the API, `run()` is called and nothing else happens.
 * @internal
 */
export function traceAttempt<R>(item: unknown, info: AttemptInfo, run: () => R): R {
  const api = tracingApi();
  if (api === undefined) return run();
  const ev = item as { topic?: unknown; offset?: unknown; payload?: unknown } | null;
  const topic = info.topic ?? (typeof ev?.topic === 'string' ? ev.topic : undefined);
  const offset = info.offset ?? (typeof ev?.offset === 'number' ? ev.offset : undefined);
  const place: SpanPlace = {
    parent: spanContextOf(api, headersOf(item)),
    kind: api.SpanKind.CONSUMER,
    attributes: attrs({
      'sluice.attempt': info.attempt,
      'sluice.key': info.key,
      'sluice.partition': info.partition,
      'sluice.topic': topic,
      'sluice.offset': offset,
      'sluice.group': info.group,
      'messaging.system': topic === undefined ? undefined : 'sluice',
      'messaging.destination.name': topic,
    }),
  };
  return within(api, 'sluice.attempt', place, run, (span) => {
    if (typeof item === 'object' && item !== null) {
      lastAttempt.set(item, span.spanContext());
      const payload = ev?.payload;
      if (typeof payload === 'object' && payload !== null) lastAttempt.set(payload, span.spanContext());
    }
  });
}

/** Links to the producer contexts of up to {@link MAX_LINKS} events. */
function linksOf(api: OtelApi, events: readonly unknown[]): Link[] {
  const links: Link[] = [];
  for (const e of events) {
    if (links.length >= MAX_LINKS) break;
    const sc = spanContextOf(api, headersOf(e));
    if (sc !== undefined) links.push({ context: sc });
  }
  return links;
}

/**
 * Runs a handler over a batch of events in a `sluice.batch` span linked to each event's producer
 * context (a batch has many parents, so they are links, not a parent).
 * @internal
 */
export function traceBatch<R>(events: readonly unknown[], info: AttemptInfo, run: () => R): R {
  const api = tracingApi();
  if (api === undefined) return run();
  return within(
    api,
    'sluice.batch',
    {
      kind: api.SpanKind.CONSUMER,
      links: linksOf(api, events),
      attributes: attrs({
        'sluice.attempt': info.attempt,
        'sluice.partition': info.partition,
        'sluice.topic': info.topic,
        'sluice.group': info.group,
        'sluice.batch.size': events.length,
      }),
    },
    run,
  );
}

/** What a commit span says. */
export interface CommitInfo {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Runs a commit in a `sluice.commit` span, linked to the events it commits when given.
 * @internal
 */
export function traceCommit<R>(info: CommitInfo, events: readonly unknown[], run: () => R): R {
  const api = tracingApi();
  if (api === undefined) return run();
  return within(
    api,
    'sluice.commit',
    {
      links: linksOf(api, events),
      attributes: attrs({
        'sluice.group': info.group,
        'sluice.topic': info.topic,
        'sluice.partition': info.partition,
        'sluice.offset': info.offset,
      }),
    },
    run,
  );
}

/** Runs a saga step (or compensation) in a `sluice.saga.step` span. @internal */
export function traceSagaStep<R>(
  info: { saga: string; id: string; step: string; index: number; phase: 'run' | 'compensate' },
  run: () => R,
): R {
  const api = tracingApi();
  if (api === undefined) return run();
  return within(
    api,
    'sluice.saga.step',
    {
      attributes: attrs({
        'sluice.saga': info.saga,
        'sluice.saga.id': info.id,
        'sluice.saga.step': info.step,
        'sluice.saga.step.index': info.index,
        'sluice.saga.phase': info.phase,
      }),
    },
    run,
  );
}

/** What a dead letter span says (the fields of a `dlq.put`). */
export interface DeadLetterInfo {
  readonly id: string;
  readonly source: string;
  readonly topic?: string | undefined;
  readonly partition?: number | undefined;
  readonly offset?: number | undefined;
  readonly key?: string | undefined;
  readonly attempts: number;
  readonly payload: unknown;
  readonly error: { readonly code?: string | undefined; readonly message: string };
}

/**
 * Records a `sluice.dead_letter` span for an entry being stored: a child of the active span
 * (a `dlq.put` inside a handler), else of the last attempt of the same payload. Returns the
 * trace headers to keep with the entry, so a replay continues the trace.
 * @internal Called by every backend's `dlq.put`.
 */
export function traceDeadLetter(entry: DeadLetterInfo): Record<string, string> | undefined {
  const api = tracingApi();
  if (api === undefined) return undefined;
  const p = entry.payload;
  const parent =
    activeSpanContext(api) ??
    (typeof p === 'object' && p !== null ? lastAttempt.get(p) : undefined) ??
    spanContextOf(api, headersOf(p));
  const { span } = start(api, 'sluice.dead_letter', {
    parent,
    attributes: attrs({
      'sluice.dlq.id': entry.id,
      'sluice.dlq.source': entry.source,
      'sluice.topic': entry.topic,
      'sluice.partition': entry.partition,
      'sluice.offset': entry.offset,
      'sluice.key': entry.key,
      'sluice.attempts': entry.attempts,
      'error.type': entry.error.code ?? 'Error',
    }),
  });
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: entry.error.message });
  const headers = traceHeaders(span.spanContext());
  span.end();
  return headers;
}

/** Where a replay span hangs: under the dead letter's stored trace, linked to the caller. */
function replayPlace(
  api: OtelApi,
  entry: { readonly id: string; readonly source: string; readonly error: object },
  target: string | undefined,
  kind: SpanKind,
): SpanPlace {
  const stored = spanContextOf(api, entry.error as Record<string, string>);
  const caller = activeSpanContext(api);
  return {
    parent: stored ?? caller,
    kind,
    links: stored !== undefined && caller !== undefined ? [{ context: caller }] : [],
    attributes: attrs({
      'sluice.dlq.id': entry.id,
      'sluice.dlq.source': entry.source,
      'sluice.topic': target,
      'messaging.destination.name': target,
    }),
  };
}

/**
 * Records a `sluice.dlq.replay` span for an entry being re-appended: a child of the dead letter
 * (the trace stored with it), linked to the active span of whoever asked for the replay. Returns
 * the headers the replayed event carries, so its processing continues the same trace.
 * @internal Called by every backend's `dlq.replay`.
 */
export function traceReplay(
  entry: { readonly id: string; readonly source: string; readonly error: object },
  target: string | undefined,
): Record<string, string> | undefined {
  const api = tracingApi();
  if (api === undefined) return undefined;
  const { span } = start(api, 'sluice.dlq.replay', replayPlace(api, entry, target, api.SpanKind.PRODUCER));
  const headers = traceHeaders(span.spanContext());
  span.end();
  return headers;
}

/**
 * Runs an in-process replay of a dead letter (`DeadLetterQueue.replay`'s handler) in a
 * `sluice.dlq.replay` span placed as in {@link traceReplay}; a dead letter stored again from
 * inside it is its child.
 * @internal
 */
export function traceReplayRun<R>(
  entry: { readonly id: string; readonly source: string; readonly error: object },
  run: () => R,
): R {
  const api = tracingApi();
  if (api === undefined) return run();
  return within(api, 'sluice.dlq.replay', replayPlace(api, entry, undefined, api.SpanKind.CONSUMER), run);
}
