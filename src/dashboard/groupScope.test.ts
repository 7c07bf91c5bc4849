// `--group` adds no phantom rows on topics the group never consumed, and `/metrics` covers every discovered topic and group.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { type Dashboard, startDashboard } from './startDashboard.ts';

let dash: Dashboard | undefined;
afterEach(async () => {
  await dash?.close();
  dash = undefined;
});

/** orders (16 partitions, 1,600 events) read by shipping; payments (2 partitions) read by billing. */
async function twoTeams(): Promise<Backend> {
  const b = createMemoryBackend();
  await b.ensureTopic('orders', { partitions: 16 });
  await b.ensureTopic('payments', { partitions: 2 });
  for (let p = 0; p < 16; p++) {
    await b.append(
      'orders',
      Array.from({ length: 100 }, (_, i) => ({ partition: p, payload: i })),
    );
    await b.commit('shipping', 'orders', p, 90);
  }
  for (let p = 0; p < 2; p++) {
    await b.append(
      'payments',
      Array.from({ length: 10 }, (_, i) => ({ partition: p, payload: i })),
    );
    await b.commit('billing', 'payments', p, 4);
  }
  await b.dlq.put({
    id: 'd1',
    source: 'shipping',
    topic: 'orders',
    payload: 1,
    error: { name: 'E', message: 'x' },
    attempts: 1,
  });
  return b;
}

const auth = (d: Dashboard) => ({ headers: { authorization: `Bearer ${d.token}` } });

describe('dashboard --group', () => {
  it('shows the named group only where it has offsets, next to the real groups; the total lag is theirs', async () => {
    const backend = await twoTeams();
    dash = await startDashboard({ backend, groups: ['billing'] });
    const s = (await (await fetch(`${dash.url}api/status`, auth(dash))).json()) as {
      groups: { group: string; topic: string; lagTotal: number; partitions: unknown[] }[];
    };
    expect(s.groups.map((g) => [g.group, g.topic, g.partitions.length, g.lagTotal])).toEqual([
      ['billing', 'payments', 2, 12],
      ['shipping', 'orders', 16, 160],
    ]);
    expect(s.groups.reduce((a, g) => a + g.lagTotal, 0)).toBe(172);
  });

  it('pairs a named group with a named topic even before it committed there', async () => {
    const backend = await twoTeams();
    dash = await startDashboard({ backend, groups: ['audit'], topics: ['payments'] });
    const s = (await (await fetch(`${dash.url}api/status`, auth(dash))).json()) as {
      groups: { group: string; topic: string; lagTotal: number }[];
    };
    expect(s.groups.map((g) => [g.group, g.topic, g.lagTotal])).toEqual([
      ['audit', 'payments', 20],
      ['billing', 'payments', 12],
      ['shipping', 'orders', 160],
    ]);
  });
});

describe('dashboard /metrics without --topic', () => {
  it('exports lag, end offsets and DLQ size of every discovered topic and group', async () => {
    const backend = await twoTeams();
    dash = await startDashboard({ backend });
    const text = await (await fetch(`${dash.url}metrics`, auth(dash))).text();
    expect(text).toMatch(/sluice_dlq_size\{backend="memory"\} 1/);
    expect(text).toMatch(
      /sluice_consumer_lag\{backend="memory",group="shipping",topic="orders",partition="15"\} 10/,
    );
    expect(text).toMatch(
      /sluice_consumer_lag\{backend="memory",group="billing",topic="payments",partition="1"\} 6/,
    );
    expect(text).toMatch(/sluice_topic_end_offset\{backend="memory",topic="payments",partition="0"\} 10/);
    expect(text).toMatch(/sluice_topic_dlq_size\{backend="memory",topic="orders"\} 1/);
    expect(text).not.toMatch(/group="billing",topic="orders"/);
    // A group that appears later is exported at the next scrape.
    await backend.commit('reports', 'orders', 3, 50);
    const again = await (await fetch(`${dash.url}metrics`, auth(dash))).text();
    expect(again).toMatch(
      /sluice_consumer_lag\{backend="memory",group="reports",topic="orders",partition="3"\} 50/,
    );
  });
});
