// PostgreSQL append notifications carrying the new events: equal to read, across backends, large appends without.
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { LogEvent } from '../Backend.ts';
import { createPostgresBackend } from './PostgresBackend.ts';
import { appendNotification, hintEvents } from './pgNotifyEvents.ts';

const DB_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: DB_URL, max: 2 });
const schema = `sluice_nev${process.pid}_${Date.now().toString(36)}`;

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe('PostgreSQL append notifications with events', () => {
  it("carry a small append's events to a watcher in another backend, equal to read; large ones name the partition only", async () => {
    const writer = await createPostgresBackend({ connectionString: DB_URL, schema });
    const reader = await createPostgresBackend({ connectionString: DB_URL, schema });
    try {
      await writer.ensureTopic('t', { partitions: 3 });
      const hints: { partition: number; events: readonly LogEvent[] | undefined }[] = [];
      reader.watch('t', (partition, events) => hints.push({ partition, events }));
      await reader.ready();
      await vi.waitFor(() => expect(reader.listenerState).toBe('listening'), { timeout: 5000, interval: 10 });
      await writer.append('t', [
        {
          payload: { n: 1, text: 'é✓: "quoted", comma' },
          partition: 2,
          key: 'k:1',
          headers: { traceparent: 'x' },
        },
        { payload: [1, 2], partition: 2 },
        { payload: null, partition: 0 },
      ]);
      await vi.waitFor(() => expect(hints).toHaveLength(2), { timeout: 5000, interval: 10 });
      for (const h of hints) {
        expect(h.events).toBeDefined();
        expect(h.events).toEqual(await reader.read('t', h.partition, 0, 10));
      }
      await writer.append('t', [{ payload: 'x'.repeat(9000), partition: 1 }]);
      await vi.waitFor(() => expect(hints).toHaveLength(3), { timeout: 5000, interval: 10 });
      expect(hints[2]).toEqual({ partition: 1, events: undefined });
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('a payload that only names partitions still parses (the part an older reader sees)', () => {
    const payload = appendNotification('orders', [0, 4], [[4, 7, 'id-1', null, '{"a":1}', null]], 123);
    expect(payload).toBeDefined();
    const [head, topic] = [
      payload!.slice(0, payload!.indexOf(':')),
      payload!.slice(payload!.indexOf(':') + 1),
    ];
    expect(topic).toBe('orders');
    expect(head.split(',').map(Number).filter(Number.isSafeInteger)).toEqual([0, 4]);
    const carried = hintEvents('orders', head.split(',').at(-1)!);
    expect(carried?.get(4)).toEqual([
      { topic: 'orders', partition: 4, offset: 7, id: 'id-1', payload: { a: 1 }, timestamp: 123 },
    ]);
    expect(hintEvents('orders', '~not base64 json')).toBeUndefined();
    expect(
      appendNotification('orders', [0], [[0, 0, 'i', null, JSON.stringify('y'.repeat(8000)), null]], 1),
    ).toBeUndefined();
  });
});
