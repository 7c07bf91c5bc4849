// The CircuitBreaker class (closed / open / half-open with probes, isolation, events) and building one from configuration.
import { z } from 'zod';
import { type Clock, systemClock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import { durationOr } from '../core/duration.ts';
import { configError, isSluiceError, SluiceError, throwIfAborted } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { validate } from '../core/validate.ts';
import { type Internal, snapshotOf, stateFromSnapshot } from './circuitSnapshot.ts';
import type {
  CircuitBreakerEvents,
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitContext,
  CircuitState,
  IsolationHandle,
} from './circuitTypes.ts';
import { clockSchema, fnSchema, intAtLeast } from './options.ts';

export type * from './circuitTypes.ts';

interface Ticket {
  readonly generation: number;
  readonly state: CircuitState;
}

const optionsSchema = z.object(
  {
    failureThreshold: intAtLeast(1).optional(),
    timeout: z.unknown().optional(),
    halfOpenRequests: intAtLeast(1).optional(),
    clock: clockSchema.optional(),
    isFailure: fnSchema<(e: unknown) => boolean>().optional(),
    name: z.string({ error: 'a string' }).optional(),
  },
  { error: 'an options object' },
);

/**
 * A circuit breaker: stops calling a failing dependency for a while, then probes it.
 *
 * - **closed**: calls run; `failureThreshold` consecutive failures open the breaker.
 * - **open**: calls are refused at once with `CIRCUIT_OPEN` (`retryable: true`,
 *   `context.retryAfterMs`) for `timeout`.
 * - **half-open**: the first call after `timeout` moves here; at most `halfOpenRequests`
 *   probes run (extra calls are refused with `CIRCUIT_OPEN`). The breaker closes after
 *   `halfOpenRequests` probe successes; any probe failure re-opens it for a full `timeout`.
 *
 * The open → half-open move happens when the breaker is next used (`execute`, `state`), so
 * the breaker holds no timer. Results of calls that started before the latest state change
 * are reported as events but do not change the state. A call whose signal aborted counts as
 * neither success nor failure (a half-open probe slot it held is freed).
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ failureThreshold: 5, timeout: '30s', halfOpenRequests: 3 });
 * breaker.on('open', () => log.warn('payments unavailable'));
 * const receipt = await breaker.execute(({ signal }) => payments.charge(order, { signal }), signal);
 * ```
 */
export class CircuitBreaker {
  /** Name given in the options, carried by `CIRCUIT_OPEN` errors. */
  readonly name: string;
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** Open duration in ms. */
  readonly timeoutMs: number;
  /** Probes allowed while half-open. */
  readonly halfOpenRequests: number;
  private readonly clock: Clock;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly events = new TypedEmitter<CircuitBreakerEvents>();
  private internal: Internal = { kind: 'closed', failures: 0 };
  private generation = 0;
  private isolations = 0;
  private isolationEpoch = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    const o = validate(optionsSchema, options, 'circuitBreaker');
    this.failureThreshold = o.failureThreshold ?? 5;
    this.timeoutMs = durationOr(o.timeout, 30_000, 'circuitBreaker.timeout');
    this.halfOpenRequests = o.halfOpenRequests ?? 3;
    this.clock = o.clock ?? systemClock;
    this.isFailure = o.isFailure ?? (() => true);
    this.name = o.name ?? 'circuit';
  }

  /**
   * Builds a breaker with `options` and restores a {@link CircuitBreakerSnapshot}.
   *
   * @example
   * ```ts
   * await store.put('breaker:payments', JSON.stringify(breaker));
   * const again = CircuitBreaker.fromJSON(JSON.parse(await store.get('breaker:payments')), { timeout: '30s' });
   * ```
   */
  static fromJSON(json: unknown, options: CircuitBreakerOptions = {}): CircuitBreaker {
    const b = new CircuitBreaker(options);
    b.restore(json);
    return b;
  }

  /** The current state (moving open → half-open first when the timeout has elapsed). */
  get state(): CircuitState {
    this.refresh();
    return this.internal.kind;
  }

  /** Consecutive failures counted while closed (0 in the other states). */
  get failures(): number {
    return this.internal.kind === 'closed' ? this.internal.failures : 0;
  }

  /** Whether the breaker is held open by {@link isolate}. */
  get isolated(): boolean {
    return this.isolations > 0;
  }

  /** Subscribes to an event; returns an unsubscribe function. */
  on<E extends keyof CircuitBreakerEvents>(
    event: E,
    fn: (...args: CircuitBreakerEvents[E]) => void,
  ): () => void {
    return this.events.on(event, fn);
  }

  /**
   * Runs `fn` through the breaker. Rejects with `CIRCUIT_OPEN` without calling `fn` when the
   * breaker refuses the call, with `ABORTED` when `signal` is already aborted, and otherwise
   * settles like `fn`.
   */
  async execute<T>(fn: (ctx: CircuitContext) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal, 'circuit breaker call');
    const ticket = this.admit();
    const started = this.clock.now();
    let value: T;
    try {
      value = await fn({ signal: signal ?? new AbortController().signal });
    } catch (error) {
      const durationMs = this.clock.now() - started;
      if (signal?.aborted) this.abandon(ticket);
      else if (this.isFailure(error)) this.recordFailure(ticket, error, durationMs);
      else this.recordSuccess(ticket, durationMs);
      throw error;
    }
    this.recordSuccess(ticket, this.clock.now() - started);
    return value;
  }

  /**
   * Holds the breaker open (calls refused with `CIRCUIT_OPEN`, `context.isolated: true`) until
   * every returned handle is disposed; then it closes. Use to take a dependency out by hand.
   */
  isolate(): IsolationHandle {
    const epoch = this.isolationEpoch;
    this.isolations++;
    if (this.isolations === 1) this.toOpen(Number.POSITIVE_INFINITY, undefined);
    let disposed = false;
    return {
      dispose: () => {
        if (disposed || epoch !== this.isolationEpoch) return;
        disposed = true;
        this.isolations--;
        if (this.isolations === 0) this.toClosed();
      },
    };
  }

  /** Forces the breaker closed with no failures counted, ending any isolation. */
  reset(): void {
    this.isolations = 0;
    this.isolationEpoch++;
    if (this.internal.kind === 'closed') {
      this.internal = { kind: 'closed', failures: 0 };
      this.generation++;
    } else {
      this.toClosed();
    }
  }

  /** A JSON-safe snapshot of the state; see {@link CircuitBreakerSnapshot}. */
  toJSON(): CircuitBreakerSnapshot {
    this.refresh();
    return snapshotOf(this.internal, this.isolated, this.clock.now());
  }

  /**
   * Replaces the state with a snapshot. An open snapshot stays open for its `remainingMs`
   * (the full `timeout` when absent) from now; a half-open one starts with no probe running;
   * an isolated one stays open until {@link reset}. Emits no events.
   *
   * @throws SluiceError `CONFIG_INVALID` when `json` is not a snapshot.
   */
  restore(json: unknown): void {
    const restored = stateFromSnapshot(json, this, this.clock.now());
    this.generation++;
    this.isolationEpoch++;
    this.isolations = restored.isolated ? 1 : 0;
    this.internal = restored.internal;
  }

  private refresh(): void {
    const s = this.internal;
    if (s.kind === 'open' && this.clock.now() >= s.until) {
      this.internal = { kind: 'half-open', admitted: 0, successes: 0 };
      this.generation++;
      this.events.emit('half_open');
    }
  }

  private admit(): Ticket {
    this.refresh();
    const s = this.internal;
    if (s.kind === 'closed') return { generation: this.generation, state: 'closed' };
    if (s.kind === 'half-open' && s.admitted < this.halfOpenRequests) {
      s.admitted++;
      return { generation: this.generation, state: 'half-open' };
    }
    const retryAfterMs =
      s.kind === 'open' && Number.isFinite(s.until) ? Math.max(0, s.until - this.clock.now()) : undefined;
    this.events.emit('rejected', {
      state: s.kind,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
    throw new SluiceError(
      'CIRCUIT_OPEN',
      s.kind === 'open'
        ? `Circuit \`${this.name}\` is open${this.isolated ? ' (isolated)' : ''}`
        : `Circuit \`${this.name}\` is half-open and all ${this.halfOpenRequests} probes are running`,
      {
        retryable: true,
        context: {
          name: this.name,
          state: s.kind,
          isolated: this.isolated,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      },
    );
  }

  private recordSuccess(ticket: Ticket, durationMs: number): void {
    this.events.emit('success', { state: ticket.state, durationMs });
    if (ticket.generation !== this.generation) return;
    const s = this.internal;
    if (s.kind === 'closed') s.failures = 0;
    else if (s.kind === 'half-open') {
      s.successes++;
      if (s.successes >= this.halfOpenRequests) this.toClosed();
    }
  }

  private recordFailure(ticket: Ticket, error: unknown, durationMs: number): void {
    this.events.emit('failure', { state: ticket.state, durationMs, error });
    if (ticket.generation !== this.generation) return;
    const s = this.internal;
    if (s.kind === 'closed') {
      s.failures++;
      if (s.failures >= this.failureThreshold) this.toOpen(this.clock.now() + this.timeoutMs, error);
    } else if (s.kind === 'half-open') {
      this.toOpen(this.clock.now() + this.timeoutMs, error);
    }
  }

  private abandon(ticket: Ticket): void {
    if (ticket.generation !== this.generation) return;
    const s = this.internal;
    if (s.kind === 'half-open') s.admitted = Math.max(0, s.admitted - 1);
  }

  private toOpen(until: number, error: unknown): void {
    const from = this.internal.kind;
    const failures = from === 'closed' ? (this.internal as { failures: number }).failures : 0;
    this.internal = { kind: 'open', until, failures };
    this.generation++;
    this.events.emit('open', {
      from,
      failures,
      ...(error === undefined ? {} : { error }),
      isolated: this.isolated,
    });
  }

  private toClosed(): void {
    const was = this.internal.kind;
    this.internal = { kind: 'closed', failures: 0 };
    this.generation++;
    if (was !== 'closed') this.events.emit('close');
  }
}

/**
 * The configuration shape of a breaker in pipeline/supervision options (snake_case as in
 * configuration files, camelCase accepted too). `enabled: false` means no breaker.
 */
export interface CircuitBreakerConfig {
  enabled?: boolean;
  failure_threshold?: number;
  failureThreshold?: number;
  timeout?: Duration;
  half_open_requests?: number;
  halfOpenRequests?: number;
}

const configSchema = z.object(
  {
    enabled: z.boolean({ error: 'a boolean' }).optional(),
    failure_threshold: intAtLeast(1).optional(),
    failureThreshold: intAtLeast(1).optional(),
    timeout: z.unknown().optional(),
    half_open_requests: intAtLeast(1).optional(),
    halfOpenRequests: intAtLeast(1).optional(),
  },
  { error: 'an object {enabled?, failure_threshold?, timeout?, half_open_requests?}' },
);

/**
 * Builds a {@link CircuitBreaker} from the configuration shape
 * `{enabled, failure_threshold, timeout, half_open_requests}` (or `true`). Returns `undefined`
 * when the config is `undefined`, `false` or has `enabled: false`.
 *
 * @param extra - options that do not come from configuration files (clock, isFailure, name).
 * @example
 * ```ts
 * const breaker = circuitBreakerFromConfig({ enabled: true, failure_threshold: 3, timeout: '10s', half_open_requests: 1 });
 * ```
 */
export function circuitBreakerFromConfig(
  config: CircuitBreakerConfig | boolean | undefined,
  extra: Pick<CircuitBreakerOptions, 'clock' | 'isFailure' | 'name'> = {},
  field = 'circuitBreaker',
): CircuitBreaker | undefined {
  if (config === undefined || config === false) return undefined;
  if (config === true) return new CircuitBreaker(extra);
  if (typeof config !== 'object' || config === null) {
    throw configError(
      field,
      'a boolean or {enabled, failure_threshold, timeout, half_open_requests}',
      config,
    );
  }
  const c = validate(configSchema, config, field);
  if (c.enabled === false) return undefined;
  const failureThreshold = c.failureThreshold ?? c.failure_threshold;
  const halfOpenRequests = c.halfOpenRequests ?? c.half_open_requests;
  const timeout = c.timeout === undefined ? undefined : durationOr(c.timeout, 30_000, `${field}.timeout`);
  return new CircuitBreaker({
    ...extra,
    ...(failureThreshold === undefined ? {} : { failureThreshold }),
    ...(halfOpenRequests === undefined ? {} : { halfOpenRequests }),
    ...(timeout === undefined ? {} : { timeout }),
  });
}

/** True when `e` is a `CIRCUIT_OPEN` rejection from a {@link CircuitBreaker}. */
export function isCircuitOpen(e: unknown): boolean {
  return isSluiceError(e) && e.code === 'CIRCUIT_OPEN';
}
