// Loads the optional `@opentelemetry/api` peer once, on first use; remembers when it is absent.
import { createRequire } from 'node:module';

/** The OpenTelemetry API module, when installed. @internal */
export type OtelApi = typeof import('@opentelemetry/api');

/**
 * Whether tracing is available: `unloaded` (nothing asked yet), `absent` (the peer dependency is
 * not installed: no span code ever runs), or `present` with the API module.
 */
export type TelemetryState =
  | { readonly kind: 'unloaded' }
  | { readonly kind: 'absent'; readonly reason: string }
  | { readonly kind: 'present' };

/** The loader's state: {@link TelemetryState} with the module when present. @internal */
export type LoadedApi =
  | { readonly kind: 'unloaded' }
  | { readonly kind: 'absent'; readonly reason: string }
  | { readonly kind: 'present'; readonly api: OtelApi };

let state: LoadedApi = { kind: 'unloaded' };

/**
 * Tries `load('@opentelemetry/api')` and says what it found. A missing module (or any error
 * while loading it) gives `absent`; a module without `trace` does too.
 * @internal Exported for tests of the absent branch.
 */
export function loadOtelApi(load: (id: string) => unknown): LoadedApi {
  try {
    const api = load('@opentelemetry/api') as Partial<OtelApi> | undefined;
    if (api === undefined || typeof api.trace?.getTracer !== 'function') {
      return { kind: 'absent', reason: '@opentelemetry/api has no trace API' };
    }
    return { kind: 'present', api: api as OtelApi };
  } catch (e) {
    return { kind: 'absent', reason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The API module, or `undefined` when `@opentelemetry/api` is not installed. The first call loads
 * it (synchronously, through `require`: the API registers its globals under a versioned symbol,
 * so the CommonJS and ESM copies share one tracer provider); later calls only read a variable.
 * @internal
 */
export function otelApi(): OtelApi | undefined {
  if (state.kind === 'unloaded') state = loadOtelApi(createRequire(import.meta.url));
  return state.kind === 'present' ? state.api : undefined;
}

/**
 * Whether Sluice found `@opentelemetry/api` (loading it on first call). `absent` means the
 * tracing hooks are inert: no span, no header, no context lookup.
 *
 * @example
 * ```ts
 * import { telemetryState } from 'sluice';
 * console.log(telemetryState().kind); // 'present' or 'absent'
 * ```
 */
export function telemetryState(): TelemetryState {
  otelApi();
  return state.kind === 'present' ? { kind: 'present' } : state;
}

let noopProvider: unknown;

/**
 * The API module when it is installed *and* a tracer provider is registered (an SDK set up);
 * `undefined` otherwise. With the API installed but no SDK, this costs two property reads per
 * call and no span object is made.
 * @internal
 */
export function tracingApi(): OtelApi | undefined {
  const api = otelApi();
  if (api === undefined) return undefined;
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  const provider = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  return delegate === noopProvider ? undefined : api;
}
