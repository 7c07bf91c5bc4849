// Options of the JetStream source and their validation.
import { z } from 'zod';
import type { Clock } from '../../core/Clock.ts';
import type { Duration } from '../../core/duration.ts';
import type { Backoff } from '../../resilience/Backoff.ts';
import { int1, keySelectorSchema, optionalFn } from '../common/keys.ts';
import type { KeySelector } from '../contract.ts';

/** Options of {@link natsSource}. */
export interface NatsSourceOptions<T> {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | readonly string[];
  /** The JetStream stream to read. */
  stream: string;
  /** Durable pull consumer name (created or updated by the source; one name per consumer group). */
  consumer: string;
  /** Subjects the consumer reads (default: every subject of the stream). */
  filterSubjects?: readonly string[];
  /** Unacked messages allowed at once (`max_ack_pending`): the backpressure bound. Default 64. */
  maxAckPending?: number;
  /**
   * Redeliveries allowed after crashes or releases (as RabbitMQ's `x-delivery-limit`); a message
   * delivered more often is dead-lettered on arrival. The consumer's `max_deliver` is set to
   * `deliveryLimit + 2` so JetStream hands it over for that. Default 5.
   */
  deliveryLimit?: number;
  /** How long JetStream waits for an ack before redelivering (kept alive with `working()` while an item runs). Default 30 s. */
  ackWait?: Duration;
  /** Dead-letter subject (default `sluice.dlq.<stream>.<consumer>`); must not be captured by the source stream. */
  deadLetterSubject?: string;
  /** Stream capturing the dead-letter subject, created when missing (default `<stream>_DLQ`); `false` to manage it yourself. */
  deadLetterStream?: string | false;
  /** Partition key: a header name or a function of the payload. Default: header `sluice-key`, else the subject. */
  key?: KeySelector<T>;
  /** Body decoder (default JSON). A body that fails to decode is dead-lettered. */
  decode?: (body: Uint8Array) => T;
  /** Delay of the `nak` given to a message that could not be dead-lettered (its publish to the dead-letter subject failed), by delivery count (default exponential 1 s .. 1 m). */
  redeliveryBackoff?: Backoff;
  /** Name of the pipeline (default the consumer name). */
  name?: string;
  /** Time source (keep-alive timer). */
  clock?: Clock;
}

/** Zod schema of {@link NatsSourceOptions}. @internal */
export const natsSourceSchema = z.object({
  servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'a server URL or a list of them',
  }),
  stream: z
    .string({ error: 'a stream name' })
    .regex(/^[^.*> ]+$/, 'a stream name (no dots, spaces or wildcards)'),
  consumer: z
    .string({ error: 'a consumer name' })
    .regex(/^[^.*> ]+$/, 'a consumer name (no dots, spaces or wildcards)'),
  filterSubjects: z.array(z.string().min(1)).optional(),
  maxAckPending: int1.optional(),
  deliveryLimit: z
    .number({ error: 'an integer >= 0' })
    .int('an integer >= 0')
    .min(0, 'an integer >= 0')
    .optional(),
  ackWait: z.unknown().optional(),
  deadLetterSubject: z.string().min(1).optional(),
  deadLetterStream: z.union([z.string().min(1), z.literal(false)]).optional(),
  key: keySelectorSchema,
  decode: optionalFn('a function (body) => payload'),
  redeliveryBackoff: z.unknown().optional(),
  name: z.string().min(1).optional(),
  clock: z.unknown().optional(),
});
