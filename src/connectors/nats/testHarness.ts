// Test fixtures on a real NATS JetStream: a file stream per test, its dead-letter stream, and the consumer's counts.
import { randomUUID } from 'node:crypto';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { toBackoff } from '../../resilience/index.ts';
import type { ConnectorFixture, ConnectorHarness, TestPayload } from '../conformance/index.ts';
import { natsSink } from './NatsSink.ts';
import { natsSource } from './NatsSource.ts';

/** The server the integration tests use (override with `SLUICE_NATS_URL`). */
export const NATS_URL = process.env.SLUICE_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Runs `fn` with a JetStream manager on a short-lived connection. */
export async function withJsm<R>(fn: (jsm: JetStreamManager) => Promise<R>): Promise<R> {
  const nc = await connect({ servers: NATS_URL });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

/** Creates a file-backed stream `name` capturing `subjects`. */
export function createStream(name: string, subjects: string[]): Promise<unknown> {
  return withJsm((jsm) => jsm.streams.add({ name, subjects, duplicate_window: 120_000_000_000 }));
}

/** Reads every message of stream `name` (JSON bodies with their headers). */
export function readStream(name: string): Promise<{ body: unknown; headers: Record<string, string> }[]> {
  return withJsm(async (jsm) => {
    const info = await jsm.streams.info(name).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    const out: { body: unknown; headers: Record<string, string> }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (!m) continue;
      const headers: Record<string, string> = {};
      if (m.header) for (const k of m.header.keys()) headers[k] = m.header.get(k);
      out.push({ body: m.json(), headers });
    }
    return out;
  });
}

/** Deletes the given streams (missing ones are ignored). */
export function deleteStreams(...names: string[]): Promise<void> {
  return withJsm(async (jsm) => {
    for (const n of names) await jsm.streams.delete(n).catch(() => false);
  });
}

/** The conformance harness for NATS JetStream. */
export const natsHarness: ConnectorHarness = {
  async create({ deliveryLimit }): Promise<ConnectorFixture> {
    const id = randomUUID().slice(0, 8);
    const streamName = `CONF_${id}`;
    await createStream(streamName, [`conf.${id}.>`]);
    return {
      source: ({ prefetch }) =>
        natsSource<TestPayload>({
          servers: NATS_URL,
          stream: streamName,
          consumer: 'conformance',
          maxAckPending: prefetch,
          deliveryLimit,
          redeliveryBackoff: toBackoff(0),
          ackWait: 1500,
        }),
      sink: natsSink<TestPayload>({ servers: NATS_URL, subject: `conf.${id}.events` }),
      deadLetters: async () => (await readStream(`${streamName}_DLQ`)).map((m) => m.body as TestPayload),
      brokerCounts: () =>
        withJsm(async (jsm) => {
          const c = await jsm.consumers.info(streamName, 'conformance');
          return { unacked: c.num_ack_pending, ready: c.num_pending };
        }),
      cleanup: () => deleteStreams(streamName, `${streamName}_DLQ`),
    };
  },
};
