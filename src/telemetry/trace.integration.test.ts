// One connected trace from append through processing, dead letter, replay and processing again, on SQLite and PostgreSQL.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, trace } from '@opentelemetry/api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSdk, named, parentOf } from '../../test/support/otelSdk.ts';
import type { Backend, LogEvent } from '../backend/Backend.ts';
import { quoteIdent } from '../backend/postgres/migrations.ts';
import { createPostgresBackend } from '../backend/postgres/PostgresBackend.ts';
import { createSqliteBackend } from '../backend/sqlite/SqliteBackend.ts';
import { partitionedRunner } from '../cluster/runner/PartitionedRunner.ts';
import { DeadLetterQueue } from '../dlq/DeadLetterQueue.ts';
import { stream } from '../pipeline/stream.ts';
import { telemetryState } from './loadApi.ts';

const PG_URL = process.env.SLUICE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `tracing_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const dir = mkdtempSync(join(tmpdir(), 'sluice-trace-'));
let sdk: ReturnType<typeof installSdk>;

beforeAll(() => {
  sdk = installSdk();
});
afterAll(async () => {
  await sdk.uninstall();
  rmSync(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await admin.end();
});

const backends: [string, () => Promise<Backend>][] = [
  ['sqlite', async () => createSqliteBackend({ path: join(dir, `${randomUUID()}.db`) })],
  ['postgres', () => createPostgresBackend({ connectionString: PG_URL, schema })],
];

type Order = { order: number };

describe.each(backends)('tracing on %s', (_name, open) => {
  it('append → process (2 attempts) → dead letter → replay → process is one connected trace', async () => {
    expect(telemetryState().kind).toBe('present');
    sdk.exporter.reset();
    const backend = await open();
    const topic = `orders_${randomUUID().slice(0, 8)}`;
    try {
      await backend.ensureTopic(topic, { partitions: 4 });
      const tracer = trace.getTracer('test');
      const producer = await tracer.startActiveSpan('produce', async (span) => {
        await backend.append(topic, [{ key: 'customer-7', payload: { order: 1 } }]);
        span.end();
        return span.spanContext();
      });
      const [stored] = (
        await Promise.all([0, 1, 2, 3].map((p) => backend.read(topic, p, 0, 10)))
      ).flat() as LogEvent<Order>[];
      expect(stored?.headers?.traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);

      // First delivery: both attempts fail; the payload goes to the DLQ.
      const dlq = new DeadLetterQueue<Order>({ store: backend, source: 'billing' });
      await stream<Order>({ backend, topic, group: 'billing' })
        .concurrent({ maxWorkers: 2, retry: { attempts: 2, backoff: 1 } })
        .process(() => {
          throw new Error('card declined');
        })
        .onError((error, e, info) =>
          dlq.push(e.payload, error, { ...info, topic: e.topic, partition: e.partition, offset: e.offset }),
        )
        .checkpoint()
        .collect();
      const [letter] = await dlq.list();
      expect(letter?.error.message).toBe('card declined');

      // An operator replays it from their own span; the replayed event is processed and succeeds.
      const operator = await tracer.startActiveSpan('operator', async (span) => {
        expect(await backend.dlq.replay({ ids: [letter!.id] })).toEqual([letter!.id]);
        span.end();
        return span.spanContext();
      });
      const seen: number[] = [];
      await stream<Order>({ backend, topic, group: 'billing' })
        .process((e) => {
          seen.push(e.payload.order);
        })
        .checkpoint()
        .collect();
      expect(seen).toEqual([1]);

      const spans = sdk.exporter.getFinishedSpans();
      const attempts = named(spans, 'sluice.attempt');
      expect(attempts.map((s) => [s.attributes['sluice.attempt'], s.attributes['sluice.outcome']])).toEqual([
        [1, 'error'],
        [2, 'error'],
        [1, 'ok'],
      ]);
      const [a1, a2, a3] = attempts;
      for (const a of attempts) {
        expect(a.kind).toBe(SpanKind.CONSUMER);
        expect(a.attributes).toMatchObject({
          'sluice.key': 'customer-7',
          'sluice.topic': topic,
          'sluice.partition': stored!.partition,
        });
      }
      // Both attempts of the first delivery are children of the producer's span.
      expect(parentOf(a1!)).toBe(producer.spanId);
      expect(parentOf(a2!)).toBe(producer.spanId);
      const [dead] = named(spans, 'sluice.dead_letter');
      expect(parentOf(dead!)).toBe(a2!.spanContext().spanId);
      expect(dead!.attributes).toMatchObject({ 'sluice.dlq.id': letter!.id, 'sluice.attempts': 2 });
      // The replay continues the dead letter's trace and links the operator's span.
      const [replay] = named(spans, 'sluice.dlq.replay');
      expect(parentOf(replay!)).toBe(dead!.spanContext().spanId);
      expect(replay!.links.map((l) => l.context.spanId)).toEqual([operator.spanId]);
      // The replayed event's attempt is a child of the replay.
      expect(parentOf(a3!)).toBe(replay!.spanContext().spanId);
      // Everything but the operator's own span is one trace: the producer's.
      const ours = spans.filter((s) => s.name.startsWith('sluice.') && s.name !== 'sluice.commit');
      expect(new Set(ours.map((s) => s.spanContext().traceId))).toEqual(new Set([producer.traceId]));
      expect(operator.traceId).not.toBe(producer.traceId);
      const commits = named(spans, 'sluice.commit');
      expect(commits.length).toBeGreaterThan(0);
      expect(commits[0]!.attributes).toMatchObject({ 'sluice.group': 'billing', 'sluice.topic': topic });
    } finally {
      await backend.close();
    }
  });

  it('an in-process DeadLetterQueue.replay runs its handler in a span under the dead letter', async () => {
    sdk.exporter.reset();
    const backend = await open();
    const topic = `inproc_${randomUUID().slice(0, 8)}`;
    try {
      await backend.ensureTopic(topic, { partitions: 1 });
      const tracer = trace.getTracer('test');
      const producer = await tracer.startActiveSpan('produce', async (span) => {
        await backend.append(topic, [{ key: 'k', payload: { order: 5 } }]);
        span.end();
        return span.spanContext();
      });
      const dlq = new DeadLetterQueue<Order>({ store: backend, source: 'inproc' });
      await stream<Order>({ backend, topic, group: 'inproc' })
        .process(() => {
          throw new Error('no');
        })
        .onError((error, e) => dlq.push(e.payload, error, { topic: e.topic, key: e.key }))
        .collect();
      let inner: string | undefined;
      const out = await dlq.replay(() => {
        inner = trace.getActiveSpan()?.spanContext().spanId;
      });
      expect(out.replayed).toHaveLength(1);
      const spans = sdk.exporter.getFinishedSpans();
      const [dead] = named(spans, 'sluice.dead_letter');
      const [replay] = named(spans, 'sluice.dlq.replay');
      expect(parentOf(dead!)).toBe(named(spans, 'sluice.attempt')[0]!.spanContext().spanId);
      expect(parentOf(replay!)).toBe(dead!.spanContext().spanId);
      expect(inner).toBe(replay!.spanContext().spanId);
      expect(replay!.spanContext().traceId).toBe(producer.traceId);
    } finally {
      await backend.close();
    }
  });

  it('a partitioned runner continues the producer trace per event and links a batch commit to its events', async () => {
    sdk.exporter.reset();
    const backend = await open();
    const topic = `runs_${randomUUID().slice(0, 8)}`;
    try {
      await backend.ensureTopic(topic, { partitions: 1 });
      const tracer = trace.getTracer('test');
      const producers = [];
      for (let i = 0; i < 3; i++) {
        producers.push(
          await tracer.startActiveSpan(`produce-${i}`, async (span) => {
            await backend.append(topic, [{ key: `k${i}`, payload: i }]);
            span.end();
            return span.spanContext();
          }),
        );
      }
      const handled: number[] = [];
      let resolve = () => {};
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      const runner = partitionedRunner<number>({
        backend,
        group: 'audit',
        topic,
        partitions: 1,
        handler: (e) => {
          handled.push(e.payload);
          if (handled.length === 3) resolve();
        },
      });
      await runner.start();
      await done;
      await runner.stop();
      const spans = sdk.exporter.getFinishedSpans();
      const attempts = named(spans, 'sluice.attempt');
      expect(attempts.map((s) => parentOf(s))).toEqual(producers.map((p) => p.spanId));
      expect(attempts.map((s) => s.spanContext().traceId)).toEqual(producers.map((p) => p.traceId));
      expect(attempts.map((s) => s.attributes['sluice.group'])).toEqual(['audit', 'audit', 'audit']);
      const linked = named(spans, 'sluice.commit').flatMap((c) => c.links.map((l) => l.context.spanId));
      expect(linked.sort()).toEqual(producers.map((p) => p.spanId).sort());
    } finally {
      await backend.close();
    }
  });
});
