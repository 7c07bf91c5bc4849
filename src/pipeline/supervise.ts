// Runs pipeline workers under an OTP supervisor and parses the `supervision` option.
import { z } from 'zod';
import type { Clock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { toError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import { type CircuitBreaker, circuitBreakerFromConfig } from '../resilience/CircuitBreaker.ts';
import { toRestartType } from '../supervision/options.ts';
import { Supervisor } from '../supervision/Supervisor.ts';
import type { ChildHandle, ChildSpec } from '../supervision/types.ts';
import type { Engine } from './Engine.ts';
import type { EngineHooks } from './engineTypes.ts';

/**
 * The `supervision` option of `.concurrent()`; camelCase or the seed's snake_case.
 *
 * - `restart`: `'always'`/`'permanent'` (default), `'on_failure'`/`'transient'`, `'never'`/`'temporary'`:
 *   what happens to a worker that crashed (see `Supervisor`).
 * - `maxRestarts` / `max_restarts` and `withinMs` / `within`: restart intensity of the workers'
 *   supervisor (default 3 within 60 s); exceeding it fails the run with `MAX_RESTARTS_EXCEEDED`.
 *   It counts worker restarts only: how often a failing item is retried is `.concurrent({ retry })`
 *   (default: no retry).
 * - `backoff`: delay before restarting a worker, e.g. `'exponential'` (item retries use
 *   `retry.backoff`).
 * - `circuitBreaker` / `circuit_breaker`: a breaker shared by all workers around each attempt;
 *   while it is open, items wait (they are not failed) and the stream resumes when it closes.
 */
export interface PipelineSupervision {
  restart?: 'always' | 'on_failure' | 'never' | 'permanent' | 'transient' | 'temporary';
  maxRestarts?: number;
  max_restarts?: number;
  withinMs?: number | string;
  within?: number | string;
  backoff?: unknown;
  circuitBreaker?: unknown;
  circuit_breaker?: unknown;
}

const schema = z.object({
  restart: z
    .enum(['always', 'on_failure', 'never', 'permanent', 'transient', 'temporary'], {
      error: 'one of "always", "on_failure", "never"',
    })
    .optional(),
  maxRestarts: z
    .number({ error: 'an integer >= 0' })
    .int('an integer >= 0')
    .min(0, 'an integer >= 0')
    .optional(),
  max_restarts: z
    .number({ error: 'an integer >= 0' })
    .int('an integer >= 0')
    .min(0, 'an integer >= 0')
    .optional(),
  withinMs: z.unknown().optional(),
  within: z.unknown().optional(),
  backoff: z.unknown().optional(),
  circuitBreaker: z.unknown().optional(),
  circuit_breaker: z.unknown().optional(),
  health_check: z.unknown().optional(),
  healthCheck: z.unknown().optional(),
});

/** Parsed supervision settings. @internal */
export interface ParsedSupervision {
  readonly restart: 'permanent' | 'transient' | 'temporary';
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly backoff: unknown;
  readonly breaker: CircuitBreaker | undefined;
}

/** Validates the `supervision` option. @internal */
export function parseSupervision(raw: Record<string, unknown>, clock: Clock): ParsedSupervision {
  const o = validate(schema, raw, 'concurrent.supervision');
  const restart = toRestartType(o.restart);
  const within = o.withinMs ?? o.within;
  return {
    restart,
    maxRestarts: o.maxRestarts ?? o.max_restarts ?? 3,
    withinMs: within === undefined ? 60_000 : parseDuration(within, 'concurrent.supervision.withinMs'),
    backoff: o.backoff,
    breaker: circuitBreakerFromConfig(
      (o.circuitBreaker ?? o.circuit_breaker) as never,
      { clock, name: 'pipeline' },
      'concurrent.supervision.circuitBreaker',
    ),
  };
}

/**
 * Runs each pipeline worker as a child of an OTP {@link Supervisor} (`one_for_one`). A worker
 * crashes when an attempt fails with code `WORKER_CRASHED` (or its `setup` fails on restart);
 * the supervisor restarts it after its backoff, `setup` runs again, and the worker resumes its
 * partitions: the item it crashed with runs again first, nothing is lost or reordered.
 * @internal
 */
export function superviseEngine<T, R, S>(
  engine: Engine<T, R, S>,
  sup: ParsedSupervision,
  clock: Clock,
  hooks: EngineHooks<T>,
): { boot: () => Promise<void>; stop: () => Promise<void> } {
  const crashers = new Map<number, (e: Error) => void>();
  const started = new Set<number>();
  let supervisor: Supervisor | undefined;

  hooks.onWorkerCrash = (workerId, error) => {
    const crash = crashers.get(workerId);
    crashers.delete(workerId);
    crash?.(error);
  };

  const child = (workerId: number): ChildSpec => ({
    id: `worker-${workerId}`,
    restart: sup.restart,
    start: async (): Promise<ChildHandle> => {
      let resolveDone!: () => void;
      let rejectDone!: (e: Error) => void;
      const done = new Promise<void>((res, rej) => {
        resolveDone = res;
        rejectDone = rej;
      });
      // Registered before the worker runs anything: it may crash on its very first item.
      crashers.set(workerId, rejectDone);
      try {
        if (started.has(workerId)) await engine.workers.revive(workerId);
        else {
          await engine.workers.start(workerId);
          started.add(workerId);
        }
      } catch (e) {
        crashers.delete(workerId);
        throw e;
      }
      return {
        done,
        kind: 'async',
        stop: async () => {
          crashers.delete(workerId);
          engine.workers.pause(workerId);
          resolveDone();
        },
      };
    },
  });

  return {
    boot: async () => {
      supervisor = await Supervisor.start({
        name: 'pipeline-workers',
        strategy: 'one_for_one',
        children: Array.from({ length: engine.workerCount }, (_, i) => child(i)),
        restartIntensity: { maxRestarts: sup.maxRestarts, withinMs: sup.withinMs },
        ...(sup.backoff === undefined ? {} : { backoff: sup.backoff as never }),
        clock,
      });
      supervisor.done.then(
        () => {},
        (e: unknown) => engine.fail(toError(e)),
      );
    },
    stop: async () => {
      await supervisor?.stop();
    },
  };
}
