import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { parsePartitionLease } from './collectStatus.ts';
import { startDashboard } from './startDashboard.ts';

describe('parsePartitionLease', () => {
  it('splits <group>/<topic>/<partition>, groups may contain slashes', () => {
    expect(parsePartitionLease('billing/orders/3')).toEqual({
      group: 'billing',
      topic: 'orders',
      partition: 3,
    });
    expect(parsePartitionLease('team/a/orders/0')).toEqual({
      group: 'team/a',
      topic: 'orders',
      partition: 0,
    });
    for (const n of ['scheduler', 'a/b', 'a/b/x', '/orders/1', 'g//1'])
      expect(parsePartitionLease(n)).toBeUndefined();
  });
});

describe('startDashboard', () => {
  it('validates its options', async () => {
    const backend = createMemoryBackend();
    await expect(startDashboard({ backend, port: 70000 })).rejects.toThrow(/Expected `dashboard.port`/);
    await expect(startDashboard({ backend, token: 'short' })).rejects.toThrow(/Expected `dashboard.token`/);
    await expect(startDashboard({ backend: {} as never })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('replays an entry without a topic only with ?toTopic=, and closes idempotently', async () => {
    const backend = createMemoryBackend();
    await backend.ensureTopic('retry', { partitions: 1 });
    await backend.dlq.put({
      id: 'loose',
      source: 'batch',
      payload: { x: 1 },
      error: { name: 'Error', message: 'e' },
      attempts: 1,
    });
    const dash = await startDashboard({ backend, token: 'a-long-enough-token' });
    const auth = { authorization: 'Bearer a-long-enough-token' };
    try {
      expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const conflict = await fetch(`${dash.url}api/dlq/loose/replay`, { method: 'POST', headers: auth });
      expect(conflict.status).toBe(409);
      const ok = await fetch(`${dash.url}api/dlq/loose/replay?toTopic=retry`, {
        method: 'POST',
        headers: auth,
      });
      expect(await ok.json()).toEqual({ replayed: ['loose'] });
      expect((await backend.read('retry', 0, 0, 10)).map((e) => e.payload)).toEqual([{ x: 1 }]);
      expect((await fetch(`${dash.url}nope`, { headers: auth })).status).toBe(404);
    } finally {
      await dash.close();
      await dash.close();
    }
    await expect(fetch(`${dash.url}api/status`, { headers: auth })).rejects.toThrow();
  });
});
