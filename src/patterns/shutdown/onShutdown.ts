// onShutdown: on SIGTERM/SIGINT, drains closeables in reverse order within a timeout, then exits.
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { configError, SluiceError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { clockSchema, fnSchema } from '../../resilience/options.ts';
import { durationSchema } from '../options.ts';

/** Something to drain on shutdown: an object with `close()` or `stop()`, or a function. */
export type Closeable = { close(): unknown } | { stop(): unknown } | (() => unknown);

/** Lifecycle of a {@link ShutdownHandle}. */
export type ShutdownState = 'waiting' | 'draining' | 'done';

/** Options of {@link onShutdown}. */
export interface ShutdownOptions {
  /** Signals that start the shutdown. Default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[];
  /** Time allowed for the whole drain; after it the process exits with code 1. Default `'10s'`. */
  timeout?: Duration;
  /**
   * What to do once drained: `true` (default) calls `process.exit(code)`, `false` does nothing,
   * a function receives the exit code instead. The code is 0 when everything closed cleanly,
   * 1 when a close failed or the timeout passed.
   */
  exit?: boolean | ((code: number) => void);
  /** Called for each close that failed (default: `console.error`). */
  onError?: (error: unknown, closeable: Closeable) => void;
  /** Time source of the timeout. Default `systemClock`. */
  clock?: Clock;
}

/** Controls a shutdown hook installed by {@link onShutdown}. */
export interface ShutdownHandle {
  /** `waiting` for a signal, `draining`, or `done`. */
  readonly state: ShutdownState;
  /** Registers one more closeable (drained before those registered earlier). Returns a remover. */
  add(closeable: Closeable): () => void;
  /** Starts the shutdown now (as a signal would); resolves with the exit code. Idempotent. */
  shutdown(reason?: string): Promise<number>;
  /** Removes the signal listeners without shutting down. */
  dispose(): void;
}

const optionsSchema = z.object({
  signals: z.array(z.string('a signal name'), 'an array of signal names').optional(),
  timeout: durationSchema.optional(),
  exit: z.union([z.boolean(), fnSchema<(code: number) => void>()], 'a boolean or a function').optional(),
  onError: fnSchema<(error: unknown, closeable: Closeable) => void>().optional(),
  clock: clockSchema.optional(),
});

function isCloseable(c: unknown): c is Closeable {
  if (typeof c === 'function') return true;
  if (typeof c !== 'object' || c === null) return false;
  return (
    typeof (c as { close?: unknown }).close === 'function' ||
    typeof (c as { stop?: unknown }).stop === 'function'
  );
}

async function closeOne(c: Closeable): Promise<void> {
  if (typeof c === 'function') await c();
  else if ('close' in c && typeof c.close === 'function') await c.close();
  else await (c as { stop(): unknown }).stop();
}

/**
 * Graceful shutdown: on SIGTERM/SIGINT, drains `closeables` one at a time in **reverse
 * registration order** (register the backend first and the workers last: workers stop — and
 * finish their in-flight item — before the backend closes), then exits. A second signal while
 * draining exits at once with code 1; so does the `timeout`.
 *
 * @example
 * ```ts
 * const backend = createRedisBackend({ url });
 * const health = await startHealthServer({ port: 8080, checks: { redis: () => backend.topicInfo('x').then(() => true) } });
 * const runner = startWorkers(backend);
 * onShutdown([backend, health, runner], { timeout: '30s' });
 * ```
 */
export function onShutdown(closeables: readonly Closeable[], options: ShutdownOptions = {}): ShutdownHandle {
  const opts = validate(optionsSchema, options, 'onShutdown');
  if (!Array.isArray(closeables)) throw configError('closeables', 'an array of closeables', closeables);
  closeables.forEach((c, i) => {
    if (!isCloseable(c))
      throw configError(`closeables[${i}]`, 'an object with close() or stop(), or a function', c);
  });
  const signals = (opts.signals ?? ['SIGTERM', 'SIGINT']) as NodeJS.Signals[];
  const timeoutMs = parseDuration(opts.timeout ?? '10s', 'onShutdown.timeout');
  const clock = opts.clock ?? systemClock;
  const onError = opts.onError ?? ((error: unknown) => console.error(error));
  const exit =
    opts.exit === false
      ? () => {}
      : typeof opts.exit === 'function'
        ? opts.exit
        : (code: number) => process.exit(code);
  const registered: Closeable[] = [...closeables];
  let state: ShutdownState = 'waiting';
  let running: Promise<number> | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (state === 'waiting') {
      void shutdown(signal);
      return;
    }
    if (state === 'draining') {
      dispose();
      exit(1);
    }
  };
  for (const s of signals) process.on(s, onSignal);

  function dispose(): void {
    for (const s of signals) process.off(s, onSignal);
  }

  async function drain(): Promise<number> {
    let code = 0;
    for (const c of [...registered].reverse()) {
      try {
        await closeOne(c);
      } catch (e) {
        code = 1;
        onError(e, c);
      }
    }
    return code;
  }

  function shutdown(_reason?: string): Promise<number> {
    if (running !== undefined) return running;
    state = 'draining';
    running = new Promise<number>((resolve) => {
      const timer = clock.setTimeout(() => {
        onError(
          new SluiceError('TIMEOUT', `Shutdown did not finish within ${timeoutMs}ms`, {
            retryable: false,
            context: { timeoutMs },
          }),
          () => {},
        );
        resolve(1);
      }, timeoutMs);
      drain().then((code) => {
        clock.clearTimeout(timer);
        resolve(code);
      });
    }).then((code) => {
      state = 'done';
      dispose();
      exit(code);
      return code;
    });
    return running;
  }

  return {
    get state() {
      return state;
    },
    add(closeable: Closeable) {
      if (!isCloseable(closeable))
        throw configError('closeable', 'an object with close() or stop(), or a function', closeable);
      registered.push(closeable);
      return () => {
        const i = registered.lastIndexOf(closeable);
        if (i >= 0) registered.splice(i, 1);
      };
    },
    shutdown,
    dispose,
  };
}
