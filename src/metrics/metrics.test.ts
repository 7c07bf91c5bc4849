// Tests of pipeline, breaker and backend Prometheus metrics and of pipeline/supervisor JSON logs (real runs).
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { UnrecoverableError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { stream } from '../pipeline/stream.ts';
import { CircuitBreaker } from '../resilience/CircuitBreaker.ts';
import { collectBackendMetrics } from './backendMetrics.ts';
import { instrumentBreaker } from './breakerMetrics.ts';
import { createLogger, logPipelineEvents, logSupervisorEvents } from './logger.ts';
import { instrumentPipeline, pipelineMetrics } from './pipelineMetrics.ts';

/** The value of one sample line `name{labels} value` in the text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] as string, x[2] as string]),
    );
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('pipeline metrics', () => {
  it('exports processed, failed and retried counts, gauges and item durations after a real run', async () => {
    const registry = new Registry();
    const m = pipelineMetrics({ registry, name: 'orders' });
    let attemptsOf7 = 0;
    const run = stream(Array.from({ length: 20 }, (_, i) => i))
      .concurrent({ maxWorkers: 3, retry: { attempts: 3, backoff: 0 } })
      .process(
        m.timed(async (n: number) => {
          if (n === 13) throw new UnrecoverableError('bad item');
          if (n === 7 && ++attemptsOf7 < 3) throw new Error('flaky');
          return n;
        }),
      )
      .onError(() => {})
      .start();
    m.instrument(run);
    await run.done;
    const text = await registry.metrics();
    const l = { pipeline: 'orders' };
    expect(sample(text, 'sluice_pipeline_items_processed_total', l)).toBe(19);
    expect(sample(text, 'sluice_pipeline_items_failed_total', l)).toBe(1);
    expect(sample(text, 'sluice_pipeline_items_retried_total', l)).toBe(2);
    expect(sample(text, 'sluice_pipeline_in_flight', l)).toBe(0);
    expect(sample(text, 'sluice_pipeline_low_watermark', l)).toBe(20);
    expect(sample(text, 'sluice_pipeline_worker_restarts_total', l)).toBe(0);
    // 19 ok attempts, 3 failed attempts (two flaky, one unrecoverable).
    expect(sample(text, 'sluice_pipeline_item_duration_seconds_count', { ...l, outcome: 'ok' })).toBe(19);
    expect(sample(text, 'sluice_pipeline_item_duration_seconds_count', { ...l, outcome: 'error' })).toBe(3);
    // End-to-end latency: one sample per item (19 processed, 1 dead-lettered), retries included.
    expect(sample(text, 'sluice_pipeline_item_latency_seconds_count', { ...l, outcome: 'ok' })).toBe(19);
    expect(sample(text, 'sluice_pipeline_item_latency_seconds_count', { ...l, outcome: 'error' })).toBe(1);
    // A second scrape does not count twice.
    const again = await registry.metrics();
    expect(sample(again, 'sluice_pipeline_items_processed_total', l)).toBe(19);
    // Nothing goes to the global registry.
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain('sluice_pipeline');
  });

  it('keeps two pipelines apart by label on one registry and validates options', async () => {
    const registry = new Registry();
    const a = stream([1, 2, 3])
      .concurrent({ maxWorkers: 1 })
      .process(async (n) => n)
      .start();
    const b = stream([1, 2, 3, 4, 5])
      .concurrent({ maxWorkers: 2 })
      .process(async (n) => n)
      .start();
    instrumentPipeline(a, { registry, name: 'a' });
    instrumentPipeline(b, { registry, name: 'b' });
    await Promise.all([a.done, b.done]);
    const text = await registry.metrics();
    expect(sample(text, 'sluice_pipeline_items_processed_total', { pipeline: 'a' })).toBe(3);
    expect(sample(text, 'sluice_pipeline_items_processed_total', { pipeline: 'b' })).toBe(5);
    expect(() => instrumentPipeline(a, { registry, name: '' })).toThrow(/Expected `metrics.name`/);
  });
});

describe('instrumentBreaker', () => {
  it('exports the current state and event counts', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({
      name: 'payments',
      failureThreshold: 2,
      timeout: '1s',
      halfOpenRequests: 1,
      clock,
    });
    const stop = instrumentBreaker(breaker, { registry });
    const fail = () => breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    let text = await registry.metrics();
    expect(sample(text, 'sluice_circuit_breaker_state', { breaker: 'payments', state: 'closed' })).toBe(1);
    await fail();
    await fail();
    text = await registry.metrics();
    expect(sample(text, 'sluice_circuit_breaker_state', { breaker: 'payments', state: 'open' })).toBe(1);
    expect(sample(text, 'sluice_circuit_breaker_state', { breaker: 'payments', state: 'closed' })).toBe(0);
    expect(
      sample(text, 'sluice_circuit_breaker_events_total', { breaker: 'payments', event: 'failure' }),
    ).toBe(2);
    expect(sample(text, 'sluice_circuit_breaker_events_total', { breaker: 'payments', event: 'open' })).toBe(
      1,
    );
    await clock.advance(1000);
    text = await registry.metrics();
    expect(sample(text, 'sluice_circuit_breaker_state', { breaker: 'payments', state: 'half-open' })).toBe(1);
    stop();
    await fail();
    text = await registry.metrics();
    expect(
      sample(text, 'sluice_circuit_breaker_events_total', { breaker: 'payments', event: 'failure' }),
    ).toBe(2);
  });
});

describe('collectBackendMetrics', () => {
  it('exports DLQ size and per-partition lag of a group', async () => {
    const backend = createMemoryBackend();
    const registry = new Registry();
    await backend.ensureTopic('orders', { partitions: 2 });
    await backend.append('orders', [
      { payload: 1, partition: 0 },
      { payload: 2, partition: 0 },
      { payload: 3, partition: 0 },
      { payload: 4, partition: 1 },
    ]);
    await backend.commit('billing', 'orders', 0, 1);
    await backend.dlq.put({
      id: 'x',
      source: 'billing',
      payload: {},
      error: { name: 'Error', message: 'boom' },
      attempts: 1,
    });
    collectBackendMetrics(backend, {
      registry,
      groups: [{ group: 'billing', topics: ['orders', 'missing'] }],
    });
    let text = await registry.metrics();
    expect(sample(text, 'sluice_dlq_size', { backend: 'memory' })).toBe(1);
    expect(sample(text, 'sluice_consumer_lag', { group: 'billing', topic: 'orders', partition: '0' })).toBe(
      2,
    );
    expect(sample(text, 'sluice_consumer_lag', { group: 'billing', topic: 'orders', partition: '1' })).toBe(
      1,
    );
    expect(sample(text, 'sluice_topic_end_offset', { topic: 'orders', partition: '0' })).toBe(3);
    await backend.commit('billing', 'orders', 0, 3);
    await backend.dlq.purge();
    text = await registry.metrics();
    expect(sample(text, 'sluice_consumer_lag', { group: 'billing', topic: 'orders', partition: '0' })).toBe(
      0,
    );
    expect(sample(text, 'sluice_dlq_size', { backend: 'memory' })).toBe(0);
    await backend.close();
  });
});

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

describe('structured logs', () => {
  it('logs pipeline failures and retries as JSON lines', async () => {
    const { lines, stream: dest } = capture();
    const log = createLogger({ name: 'test', destination: dest, level: 'debug' });
    let first = true;
    const run = stream([1, 2, 3])
      .concurrent({ maxWorkers: 1, retry: { attempts: 2, backoff: 0 } })
      .process(async (n) => {
        if (n === 2 && first) {
          first = false;
          throw new Error('once');
        }
        if (n === 3) throw new UnrecoverableError('never');
        return n;
      })
      .onError(() => {})
      .start();
    logPipelineEvents(run, log, 'p1');
    await run.done;
    await new Promise((r) => setImmediate(r));
    const retry = lines.find((l) => l.event === 'item_retry');
    const failed = lines.find((l) => l.event === 'item_failed');
    expect(retry).toMatchObject({ level: 40, name: 'test', pipeline: 'p1', seq: 1 });
    expect(failed).toMatchObject({
      level: 50,
      pipeline: 'p1',
      seq: 2,
      err: { message: 'never', code: 'UNRECOVERABLE' },
    });
    expect(lines.some((l) => l.event === 'watermark')).toBe(true);
  });

  it('logs supervisor-style events with serialized errors', () => {
    const { lines, stream: dest } = capture();
    const log = createLogger({ destination: dest });
    const ev = new TypedEmitter<{
      child_crashed: [Record<string, unknown>];
      child_started: [Record<string, unknown>];
    }>();
    const stop = logSupervisorEvents(ev as unknown as Parameters<typeof logSupervisorEvents>[0], log);
    ev.emit('child_started', { supervisor: 'root', id: 'a', attempt: 1 });
    ev.emit('child_crashed', { supervisor: 'root', id: 'a', error: new Error('kaput'), phase: 'running' });
    stop();
    ev.emit('child_started', { supervisor: 'root', id: 'b', attempt: 1 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, event: 'child_started', id: 'a' });
    expect(lines[1]).toMatchObject({ level: 50, event: 'child_crashed', error: { message: 'kaput' } });
    expect(() => createLogger({ level: 'loud' as 'info' })).toThrow(/Expected `logger.level`/);
  });
});
