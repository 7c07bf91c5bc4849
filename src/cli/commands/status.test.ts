import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../dashboard/collectStatus.ts';
import { openBackend } from '../backendSpec.ts';

const exec = promisify(execFile);
const main = join(import.meta.dirname, '..', 'main.ts');

async function sluice(args: string[]) {
  const r = await exec(process.execPath, ['--import', 'tsx', main, ...args]);
  return r.stdout;
}

let dir: string;
let spec: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-status-'));
  spec = `sqlite:${join(dir, 'sluice.db')}`;
  const b = await openBackend(spec);
  await b.ensureTopic('orders', { partitions: 3 });
  await b.ensureTopic('audit', { partitions: 1 });
  await b.ensureTopic('hidden', { partitions: 1 });
  await b.append('orders', [
    { payload: 1, partition: 0 },
    { payload: 2, partition: 0 },
    { payload: 3, partition: 1 },
    { payload: 4, partition: 2 },
    { payload: 5, partition: 2 },
    { payload: 6, partition: 2 },
  ]);
  await b.append('audit', [{ payload: 'x' }]);
  await b.commit('billing', 'orders', 0, 2);
  await b.commit('billing', 'orders', 2, 1);
  await b.commit('reports', 'orders', 1, 1);
  await b.leases.acquire('billing/orders/0', 'node-a', 60_000);
  await b.leases.acquire('billing/orders/2', 'node-b', 60_000);
  await b.leases.acquire('scheduler', 'node-a', 60_000);
  await b.membership.heartbeat('node-a', { pid: 11 });
  await b.membership.heartbeat('node-b', { pid: 12 });
  await b.dlq.put({
    id: 'd1',
    source: 'audit',
    topic: 'audit',
    payload: {},
    error: { name: 'Error', message: 'x' },
    attempts: 1,
  });
  await b.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice status', () => {
  it('reports topics, lag per partition with owners, members and DLQ size as JSON', async () => {
    const s = JSON.parse(
      await sluice(['status', '--backend', spec, '--json', '--group', 'reports']),
    ) as StatusSnapshot;
    expect(s.backend).toBe('sqlite');
    expect(s.dlq.size).toBe(1);
    // orders from leases, audit from the DLQ; hidden is not discoverable.
    expect(s.topics.map((t) => [t.topic, t.partitions.map((p) => p.endOffset)])).toEqual([
      ['audit', [1]],
      ['orders', [2, 1, 3]],
    ]);
    const billing = s.groups.find((g) => g.group === 'billing' && g.topic === 'orders');
    expect(billing?.partitions.map((p) => [p.partition, p.committed, p.lag, p.owner ?? null])).toEqual([
      [0, 2, 0, 'node-a'],
      [1, 0, 1, null],
      [2, 1, 2, 'node-b'],
    ]);
    expect(billing?.lagTotal).toBe(3);
    const reports = s.groups.find((g) => g.group === 'reports' && g.topic === 'orders');
    expect(reports?.lagTotal).toBe(5);
    expect(s.groups.some((g) => g.group === 'reports' && g.topic === 'audit')).toBe(true);
    expect(s.members.map((m) => [m.node, m.meta])).toEqual([
      ['node-a', { pid: 11 }],
      ['node-b', { pid: 12 }],
    ]);
    expect(s.leases.map((l) => l.name).sort()).toEqual(['billing/orders/0', 'billing/orders/2', 'scheduler']);
  });

  it('prints tables, and shows a named topic', async () => {
    const out = await sluice(['status', '--backend', spec, '--topic', 'hidden']);
    expect(out).toContain('Dead letters: 1');
    expect(out).toMatch(/│ hidden +│ 1 +│ 0 /);
    expect(out).toMatch(/│ billing +│ orders +│ 2 +│ 3 +│ 1 +│ 2 +│ node-b +│ 1 +│/);
    expect(out).toMatch(/│ node-a +│ \d+s ago/);
    expect(out).toMatch(/│ scheduler +│ node-a/);
  });
});
