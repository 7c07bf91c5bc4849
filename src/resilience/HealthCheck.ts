// HealthCheck: a periodic probe with timeout and consecutive-failure threshold that reports healthy / unhealthy.
import { z } from 'zod';
import { type Clock, systemClock, type Timer } from '../core/Clock.ts';
import { type Duration, durationOr } from '../core/duration.ts';
import { configError, SluiceError, toError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { validate } from '../core/validate.ts';
import { clockSchema, fnSchema, intAtLeast } from './options.ts';
import { timeout } from './timeout.ts';

/** Health as last observed: `'unknown'` until the first check completes after `start()`. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** Lifecycle of a {@link HealthCheck}. */
export type HealthCheckLifecycle = 'idle' | 'running' | 'stopped' | 'closed';

/**
 * A probe. Resolving to `false`, throwing/rejecting, or not settling within `timeout` fails
 * the check; resolving to anything else (`true`, `undefined`) passes it. Honour `signal`: it
 * aborts when the check times out or the health check stops.
 */
export type HealthProbe = (
  signal: AbortSignal,
  // biome-ignore lint/suspicious/noConfusingVoidType: a probe may be an async function that returns nothing.
) => Promise<boolean | void> | boolean | void;

/** Called once per unhealthy episode with a `HEALTH_CHECK_FAILED` error (`cause` = last failure). */
export type UnhealthyCallback = (reason: SluiceError) => void;

/** Options of {@link HealthCheck}. */
export interface HealthCheckOptions {
  /** The probe. */
  check: HealthProbe;
  /** Pause between the end of one check and the start of the next. `>= 1ms`, default `'5s'`. */
  interval?: Duration;
  /** Time limit of one check. `>= 1ms`, default `'1s'`. */
  timeout?: Duration;
  /** Consecutive failures that make the status unhealthy. Integer `>= 1`, default `1`. */
  unhealthyThreshold?: number;
  /** Consecutive successes that make an unhealthy status healthy again. Integer `>= 1`, default `1`. */
  healthyThreshold?: number;
  /** Delay before the first check after `start()`. Default: `interval`. */
  initialDelay?: Duration;
  /** Source of time; only its `setTimeout`/`clearTimeout`/`now` are used. Default `systemClock`. */
  clock?: Clock;
  /** A name carried by the `HEALTH_CHECK_FAILED` error, for logs. Default `'health check'`. */
  name?: string;
}

/** Events of {@link HealthCheck}. */
export type HealthCheckEvents = {
  /** A check finished (or a check still running from the previous round was counted as failed). */
  check: [info: { ok: boolean; durationMs: number; error?: unknown; consecutiveFailures: number }];
  /** The status became healthy (first success, or recovery after `healthyThreshold` successes). */
  healthy: [];
  /** The status became unhealthy; emitted just before the `start()` callback is called. */
  unhealthy: [reason: SluiceError];
};

const optionsSchema = z.object(
  {
    check: fnSchema<HealthProbe>('a function (signal) => Promise<boolean | void>'),
    interval: z.unknown().optional(),
    timeout: z.unknown().optional(),
    unhealthyThreshold: intAtLeast(1).optional(),
    healthyThreshold: intAtLeast(1).optional(),
    initialDelay: z.unknown().optional(),
    clock: clockSchema.optional(),
    name: z.string({ error: 'a string' }).optional(),
  },
  { error: 'an options object with a `check` function' },
);

function positiveDuration(value: unknown, fallback: number, field: string): number {
  const ms = durationOr(value, fallback, field);
  if (ms < 1) throw configError(field, 'a duration >= 1ms', value);
  return ms;
}

/**
 * Periodic health probing. A check that throws, returns `false` or exceeds `timeout` counts
 * as failed; after `unhealthyThreshold` consecutive failures the status becomes `'unhealthy'`
 * and the `start()` callback runs, once per unhealthy episode (it can run again after the
 * status has been healthy in between). Checks keep running while unhealthy so recovery is seen.
 *
 * Checks never overlap: the next one is scheduled `interval` after the previous one ends.
 * When a check ignores its aborted signal and is still running at the next round, that round
 * counts as failed without starting another check. Timers come only from the injected clock's
 * `setTimeout`.
 *
 * @example
 * ```ts
 * const health = new HealthCheck({
 *   interval: '5s',
 *   timeout: '1s',
 *   unhealthyThreshold: 3,
 *   check: async (signal) => (await fetch('http://127.0.0.1:8080/health', { signal })).ok,
 * });
 * health.start((reason) => child.stop(reason));
 * // later
 * health.stop();
 * ```
 */
export class HealthCheck {
  /** Name given in the options. */
  readonly name: string;
  private readonly check: HealthProbe;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly initialDelayMs: number;
  private readonly unhealthyThreshold: number;
  private readonly healthyThreshold: number;
  private readonly clock: Clock;
  private readonly events = new TypedEmitter<HealthCheckEvents>();
  private lifecycleState: HealthCheckLifecycle = 'idle';
  private healthStatus: HealthStatus = 'unknown';
  private failuresInRow = 0;
  private successesInRow = 0;
  private run = 0;
  private timer: Timer | undefined;
  private stopCtrl = new AbortController();
  private onUnhealthy: UnhealthyCallback | undefined;
  private inFlight: Promise<unknown> | undefined;
  private last: unknown;

  constructor(options: HealthCheckOptions) {
    const o = validate(optionsSchema, options, 'healthCheck');
    this.check = o.check;
    this.intervalMs = positiveDuration(o.interval, 5000, 'healthCheck.interval');
    this.timeoutMs = positiveDuration(o.timeout, 1000, 'healthCheck.timeout');
    this.initialDelayMs = durationOr(o.initialDelay, this.intervalMs, 'healthCheck.initialDelay');
    this.unhealthyThreshold = o.unhealthyThreshold ?? 1;
    this.healthyThreshold = o.healthyThreshold ?? 1;
    this.clock = o.clock ?? systemClock;
    this.name = o.name ?? 'health check';
  }

  /** Health as last observed. */
  get status(): HealthStatus {
    return this.healthStatus;
  }

  /** Lifecycle: `'idle'` before the first `start()`, then `'running'`, `'stopped'`, `'closed'`. */
  get lifecycle(): HealthCheckLifecycle {
    return this.lifecycleState;
  }

  /** Consecutive failed checks in the current run. */
  get consecutiveFailures(): number {
    return this.failuresInRow;
  }

  /** The error of the last failed check, if any. */
  get lastError(): unknown {
    return this.last;
  }

  /** Subscribes to an event; returns an unsubscribe function. */
  on<E extends keyof HealthCheckEvents>(event: E, fn: (...args: HealthCheckEvents[E]) => void): () => void {
    return this.events.on(event, fn);
  }

  /**
   * Starts probing: the first check runs after `initialDelay`. The status restarts at
   * `'unknown'`. A health check can be started again after `stop()`.
   *
   * @throws SluiceError `INVALID_STATE` when already running, `CLOSED` after `close()`.
   */
  start(onUnhealthy?: UnhealthyCallback): void {
    if (this.lifecycleState === 'closed') throw new SluiceError('CLOSED', `The ${this.name} is closed`);
    if (this.lifecycleState === 'running') {
      throw new SluiceError('INVALID_STATE', `The ${this.name} is already running`);
    }
    this.lifecycleState = 'running';
    this.onUnhealthy = onUnhealthy;
    this.healthStatus = 'unknown';
    this.failuresInRow = 0;
    this.successesInRow = 0;
    this.last = undefined;
    this.stopCtrl = new AbortController();
    this.run++;
    this.schedule(this.initialDelayMs);
  }

  /** Stops probing and aborts a running check. Idempotent; `start()` may be called again. */
  stop(): void {
    if (this.lifecycleState !== 'running') return;
    this.lifecycleState = 'stopped';
    this.run++;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.onUnhealthy = undefined;
    this.stopCtrl.abort(new SluiceError('ABORTED', `The ${this.name} was stopped`));
  }

  /** Stops for good and removes every listener. Idempotent. */
  close(): void {
    this.stop();
    this.lifecycleState = 'closed';
    this.events.removeAllListeners();
  }

  private schedule(delay: number): void {
    const run = this.run;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (run === this.run) this.tick(run);
    }, delay);
  }

  private tick(run: number): void {
    if (this.inFlight !== undefined) {
      const error = new SluiceError(
        'TIMEOUT',
        `The previous ${this.name} is still running after its ${this.timeoutMs}ms timeout`,
        { retryable: true, context: { timeoutMs: this.timeoutMs } },
      );
      this.complete(run, 0, error);
      return;
    }
    const started = this.clock.now();
    let probe: Promise<unknown> = Promise.resolve();
    const outcome = timeout(
      this.timeoutMs,
      (signal) => {
        try {
          probe = Promise.resolve(this.check(signal));
        } catch (e) {
          probe = Promise.reject(e);
        }
        return probe;
      },
      this.stopCtrl.signal,
      this.clock,
    );
    const tracked = probe.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight = tracked;
    void tracked.then(() => {
      if (this.inFlight === tracked) this.inFlight = undefined;
    });
    outcome.then(
      (result) => {
        const error =
          result === false
            ? new SluiceError('HEALTH_CHECK_FAILED', `The ${this.name} returned false`, { retryable: true })
            : undefined;
        this.complete(run, this.clock.now() - started, error);
      },
      (error: unknown) => this.complete(run, this.clock.now() - started, error),
    );
  }

  private complete(run: number, durationMs: number, error: unknown): void {
    if (run !== this.run || this.lifecycleState !== 'running') return;
    const ok = error === undefined;
    if (ok) {
      this.failuresInRow = 0;
      this.successesInRow++;
    } else {
      this.failuresInRow++;
      this.successesInRow = 0;
      this.last = error;
    }
    this.events.emit('check', {
      ok,
      durationMs,
      ...(ok ? {} : { error }),
      consecutiveFailures: this.failuresInRow,
    });
    if (ok) this.markHealthy();
    else this.markFailure(error);
    if (run === this.run && this.lifecycleState === 'running') this.schedule(this.intervalMs);
  }

  private markHealthy(): void {
    if (
      this.healthStatus === 'unknown' ||
      (this.healthStatus === 'unhealthy' && this.successesInRow >= this.healthyThreshold)
    ) {
      this.healthStatus = 'healthy';
      this.events.emit('healthy');
    }
  }

  private markFailure(error: unknown): void {
    if (this.healthStatus === 'unhealthy' || this.failuresInRow < this.unhealthyThreshold) return;
    this.healthStatus = 'unhealthy';
    const reason = new SluiceError(
      'HEALTH_CHECK_FAILED',
      `The ${this.name} failed ${this.failuresInRow} time${this.failuresInRow === 1 ? '' : 's'} in a row: ${toError(error).message}`,
      {
        retryable: true,
        cause: error,
        context: { name: this.name, consecutiveFailures: this.failuresInRow },
      },
    );
    this.events.emit('unhealthy', reason);
    const cb = this.onUnhealthy;
    if (cb === undefined) return;
    try {
      const r: unknown = cb(reason);
      if (r instanceof Promise) r.catch((e: unknown) => console.error(e));
    } catch (e) {
      console.error(e);
    }
  }
}
