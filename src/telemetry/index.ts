// Public names of the OpenTelemetry integration (the optional `@opentelemetry/api` peer).
export { type TelemetryState, telemetryState } from './loadApi.ts';
export { type SpanOutcome, TRACER_NAME } from './spans.ts';
export { TRACEPARENT_HEADER, TRACESTATE_HEADER } from './traceContext.ts';
