// `sluice status` as a real process: topics, groups, lag, owners, dead runners and DLQ size from a SQLite backend.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../../backend/sqlite/index.ts';
import { ManualClock } from '../../core/ManualClock.ts';
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
    // Every topic of the backend is listed, also one without leases, consumers or dead letters.
    expect(s.topics.map((t) => [t.topic, t.partitions.map((p) => p.endOffset)])).toEqual([
      ['audit', [1]],
      ['hidden', [0]],
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
    // A named group is shown only where it has offsets or leases (no phantom rows on other topics).
    expect(s.groups.some((g) => g.group === 'reports' && g.topic === 'audit')).toBe(false);
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
    expect(out).toMatch(/│ billing +│ orders +│ 2 +│ 3 +│ 1 +│ 2 +│ node-b +│ 1 +│ expires in \d+s/);
    expect(out).toMatch(/│ node-a +│ (alive|DEAD) +│ \d+s ago/);
    expect(out).toMatch(/│ scheduler +│ node-a/);
  });

  it('with no --topic/--group shows every topic and every consumer group with its lag', async () => {
    const s = JSON.parse(await sluice(['status', '--backend', spec, '--json'])) as StatusSnapshot;
    expect(s.groups.map((g) => [g.group, g.topic, g.lagTotal])).toEqual([
      ['billing', 'orders', 3],
      ['reports', 'orders', 5],
    ]);
  });

  it('flags a dead runner and the partitions it still owns; sorts partition lists numerically', async () => {
    const file = join(dir, 'dead.db');
    const tenSecondsAgo = Date.now() - 10_000;
    const b = createSqliteBackend({ path: file, clock: new ManualClock(tenSecondsAgo) });
    await b.ensureTopic('payments', { partitions: 16 });
    await b.membership.heartbeat('sluice-runner/billing/payments/r1', {
      nodeName: 'r1',
      instance: '5a5423b3',
      group: 'billing',
      topic: 'payments',
      assigned: [10, 11, 2, 8, 9],
    });
    await b.leases.acquire('billing/payments/10', 'r1#5a5423b3#17', 60_000);
    await b.close();
    const out = await sluice(['status', '--backend', `sqlite:${file}`]);
    expect(out).toMatch(
      /│ billing +│ payments +│ 10 +│ 0 +│ 0 +│ 0 +│ r1#5a5423b3#17 \(DEAD: no heartbeat\) +│/,
    );
    expect(out).toMatch(/│ sluice-runner\/billing\/payments\/r1 +│ DEAD +│ 1\ds ago/);
    expect(out).toContain('"assigned":[2,8,9,10,11]');
    const json = JSON.parse(await sluice(['status', '--backend', `sqlite:${file}`, '--json'])) as {
      members: { state: string }[];
      leases: unknown[];
    };
    expect(json.members.map((m) => m.state)).toEqual(['dead']);
    const alive = await sluice(['status', '--backend', `sqlite:${file}`, '--failure-timeout', '1m']);
    expect(alive).toMatch(/│ r1#5a5423b3#17 +│/);
    expect(alive).not.toContain('DEAD');
  });
});
