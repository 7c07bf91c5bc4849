// What the connector conformance suite needs from a broker: a fresh queue/consumer, a sink, and the broker's own counts.
import { expect } from 'vitest';
import { stream } from '../../pipeline/stream.ts';
import type { ConcurrentOptions, ProcessContext } from '../../pipeline/types.ts';
import type { ConnectorMessage, ConnectorSink, ConnectorSource } from '../contract.ts';

/** The payload every conformance test publishes. */
export interface TestPayload {
  readonly key: string;
  readonly n: number;
}

/** One isolated queue (RabbitMQ) or stream + durable consumer (JetStream), empty at start. */
export interface ConnectorFixture {
  /** A new consumer of the same queue / durable consumer. */
  source(options: { prefetch: number }): ConnectorSource<TestPayload>;
  /** Publishes to the fixture's queue / stream. */
  readonly sink: ConnectorSink<TestPayload>;
  /** Payloads now in the dead-letter route, in arrival order. */
  deadLetters(): Promise<TestPayload[]>;
  /** The broker's counts for the fixture: delivered-but-unacked and not-yet-delivered messages. */
  brokerCounts(): Promise<{ unacked: number; ready: number }>;
  /** Removes queues / streams. */
  cleanup(): Promise<void>;
}

/** Builds fixtures for one broker. */
export interface ConnectorHarness {
  /** Creates an isolated fixture whose messages are dead-lettered after `deliveryLimit` redeliveries. */
  create(options: { deliveryLimit: number }): Promise<ConnectorFixture>;
}

/** Publishes `perKey` messages for each of `keys`, interleaved, numbered 0.. per key. */
export async function publishInterleaved(
  sink: ConnectorSink<TestPayload>,
  keys: readonly string[],
  perKey: number,
): Promise<void> {
  const msgs = [];
  for (let n = 0; n < perKey; n++) for (const key of keys) msgs.push({ key, payload: { key, n } });
  await sink.publish(msgs);
}

/** A processed delivery as the tests record it. */
export interface Seen {
  readonly key: string;
  readonly n: number;
  readonly deliveryCount: number;
  readonly idempotencyKey: string;
  readonly attempt: number;
}

/**
 * Runs a pipeline over `source` until `until(seen)` holds (or `timeoutMs`), then stops it with a
 * short drain so items still running are released unsettled. Returns every attempt seen.
 */
export async function runUntil(
  source: ConnectorSource<TestPayload>,
  handler: (m: ConnectorMessage<TestPayload>, ctx: ProcessContext) => unknown,
  until: (seen: readonly Seen[]) => boolean,
  options: { concurrent?: ConcurrentOptions; timeoutMs?: number; drainTimeout?: number } = {},
): Promise<Seen[]> {
  const seen: Seen[] = [];
  const ctrl = new AbortController();
  let check: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    check = () => {
      if (until(seen)) resolve();
    };
  });
  const run = stream(source)
    .concurrent(options.concurrent ?? { maxWorkers: 4 })
    .process(async (m, ctx) => {
      seen.push({
        key: m.payload.key,
        n: m.payload.n,
        deliveryCount: m.deliveryCount,
        idempotencyKey: ctx.idempotencyKey,
        attempt: ctx.attempt,
      });
      check();
      try {
        return await handler(m, ctx);
      } finally {
        check();
      }
    })
    .start({ signal: ctrl.signal, drainTimeout: options.drainTimeout ?? 5_000 });
  check();
  const timeout = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), timeout);
  });
  const outcome = await Promise.race([
    reached.then(() => 'reached' as const),
    timedOut,
    run.done.then(() => 'ended' as const),
  ]);
  clearTimeout(timer);
  ctrl.abort();
  await run.done;
  expect(
    outcome,
    `condition not reached; saw ${JSON.stringify(seen.slice(-5))} (${seen.length} attempts)`,
  ).toBe('reached');
  return seen;
}

/** Waits until `check()` resolves true (polling every 50 ms), failing after `timeoutMs` with `what`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) expect.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves after `ms` of real time (tests against real brokers only). */
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
