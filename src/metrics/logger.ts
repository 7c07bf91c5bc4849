// createLogger (pino JSON lines) and loggers of pipeline-run and supervisor events at matching levels.
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { z } from 'zod';
import { serializeError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import type { InstrumentablePipeline } from './pipelineMetrics.ts';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level: `trace`, `debug`, `info` (default, or env `SLUICE_LOG_LEVEL`), `warn`, `error`, `fatal`, `silent`. */
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Logger name, the `name` field of every line (default `sluice`). */
  name?: string;
  /** Where lines go (default stdout): any pino destination stream, e.g. `pino.destination(2)`. */
  destination?: DestinationStream;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const optionsSchema = z.object({
  level: z.enum(LEVELS, { error: `one of ${LEVELS.join(', ')}` }).optional(),
  name: z.string().min(1, 'a non-empty string').optional(),
  destination: z
    .custom<DestinationStream>(
      (v) => typeof v === 'object' && v !== null && typeof (v as DestinationStream).write === 'function',
      'a stream with write()',
    )
    .optional(),
  base: z.record(z.string(), z.unknown(), { error: 'an object' }).optional(),
});

/**
 * Creates a structured JSON logger (pino): one JSON object per line with `level`, `time`,
 * `name`, `msg` and the event fields.
 *
 * @example
 * ```ts
 * const log = createLogger({ name: 'orders', level: 'info' });
 * logPipelineEvents(run, log);
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const o = validate(optionsSchema, options, 'logger');
  const envLevel = process.env.SLUICE_LOG_LEVEL;
  const level =
    o.level ?? (LEVELS.includes(envLevel as (typeof LEVELS)[number]) ? (envLevel as string) : 'info');
  const opts: LoggerOptions = { name: o.name ?? 'sluice', level, base: { ...(o.base ?? {}) } };
  return o.destination ? pino(opts, o.destination) : pino(opts);
}

/**
 * Logs a pipeline run's events: `item_failed` and `worker_crashed` at `error`, `item_retry` and
 * `worker_restarted` at `warn`, `watermark` at `debug`. Every line carries `pipeline` and `event`.
 * Returns a function that stops logging.
 */
export function logPipelineEvents(
  run: Pick<InstrumentablePipeline, 'on'>,
  logger: Logger,
  name = 'pipeline',
): () => void {
  const log = logger.child({ pipeline: name });
  const offs = [
    run.on('item_failed', (f) =>
      log.error(
        {
          event: 'item_failed',
          seq: f.seq,
          partition: f.partition,
          workerId: f.workerId,
          attempts: f.attempts,
          err: serializeError(f.error),
        },
        'item failed',
      ),
    ),
    run.on('item_retry', (f) =>
      log.warn(
        {
          event: 'item_retry',
          seq: f.seq,
          partition: f.partition,
          attempts: f.attempts,
          delayMs: f.delayMs,
          err: serializeError(f.error),
        },
        'item retry',
      ),
    ),
    run.on('worker_crashed', (w) =>
      log.error(
        { event: 'worker_crashed', workerId: w.workerId, err: serializeError(w.error) },
        'worker crashed',
      ),
    ),
    run.on('worker_restarted', (w) =>
      log.warn({ event: 'worker_restarted', workerId: w.workerId, restarts: w.restarts }, 'worker restarted'),
    ),
    run.on('watermark', (lowWatermark) => log.debug({ event: 'watermark', lowWatermark }, 'watermark')),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/** Anything with supervisor-style events (`child_started`, `child_crashed`, ...), such as a `Supervisor`. */
export interface SupervisorEventSource {
  on(event: string, fn: (info: Record<string, unknown>) => void): unknown;
}

const SUPERVISOR_EVENTS: Record<string, 'info' | 'warn' | 'error'> = {
  child_started: 'info',
  child_stopped: 'info',
  child_crashed: 'error',
  child_restarted: 'warn',
  child_unhealthy: 'warn',
  child_migrated: 'warn',
  node_failure_detected: 'error',
  supervisor_stopped: 'info',
  max_restarts_exceeded: 'error',
};

/**
 * Logs a supervisor's lifecycle events (`child_started`/`child_stopped`/`supervisor_stopped` at
 * `info`, `child_restarted`/`child_unhealthy` at `warn`, `child_crashed`/`max_restarts_exceeded`
 * at `error`); `error`/`reason` fields are serialized. Works with any object whose `on(event, fn)`
 * emits payload objects. Returns a function that stops logging (when `on` returns unsubscribers).
 */
export function logSupervisorEvents(source: SupervisorEventSource, logger: Logger): () => void {
  const offs: unknown[] = [];
  for (const [event, level] of Object.entries(SUPERVISOR_EVENTS)) {
    offs.push(
      source.on(event, (info) => {
        const fields: Record<string, unknown> = { event };
        for (const [k, v] of Object.entries(info ?? {}))
          fields[k] = v instanceof Error || k === 'error' ? serializeError(v) : v;
        if (fields.reason instanceof Error) fields.reason = serializeError(fields.reason);
        logger[level](fields, event.replaceAll('_', ' '));
      }),
    );
  }
  return () => {
    for (const off of offs) if (typeof off === 'function') off();
  };
}
