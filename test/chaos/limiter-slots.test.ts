// A shared concurrencyLimit across processes through Redis and PostgreSQL: never more than max slots held at once, crashed holders expire.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../../src/backend/redis/admin.ts';
import type { ChildConfig } from '../fixtures/flow/limiterChild.ts';
import { exited, startLimiterChild } from '../fixtures/flow/limiterChildren.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-limiter-slots-'));
const tag = `${process.pid}_${Date.now().toString(36)}`;
const MAX = 3;
const TTL_MS = 3000;
const RUN_MS = 9000;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Interval {
  readonly proc: number;
  readonly from: number;
  /** Release time; for the killed process's open slots, the kill time. */
  readonly to: number;
}

function intervals(
  file: string,
  proc: number,
  openUntil: number,
): { all: Interval[]; open: number; lost: number } {
  const starts = new Map<string, number>();
  const all: Interval[] = [];
  let lost = 0;
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id, at] = l.split(' ');
    if (kind === 'a') starts.set(id!, Number(at));
    if (kind === 'r') {
      all.push({ proc, from: starts.get(id!)!, to: Number(at) });
      starts.delete(id!);
    }
    if (kind === 'l') lost++;
  }
  for (const from of starts.values()) all.push({ proc, from, to: openUntil });
  return { all, open: starts.size, lost };
}

/** Most intervals overlapping at one instant, among those matching `filter`, within [from, to). */
function maxHeld(all: readonly Interval[], from = -Infinity, to = Infinity): number {
  const edges: [number, number][] = [];
  for (const i of all) {
    const a = Math.max(i.from, from);
    const b = Math.min(i.to, to);
    if (a < b) edges.push([a, 1], [b, -1]);
  }
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let cur = 0;
  let best = 0;
  for (const [, d] of edges) best = Math.max(best, (cur += d));
  return best;
}

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function scenario(backend: ChildConfig['backend'], namespace: string): Promise<void> {
  const outs = [0, 1, 2].map((i) => join(dir, `${backend}-${i}.log`));
  const base = {
    backend,
    namespace,
    mode: 'slots' as const,
    name: `db-${tag}`,
    runMs: RUN_MS,
    max: MAX,
    ttlMs: TTL_MS,
  };
  // Two survivors with short holds; the victim holds long, so it is holding when killed.
  const children = await Promise.all([
    startLimiterChild({ ...base, out: outs[0]!, loops: 2, holdMs: 40 }),
    startLimiterChild({ ...base, out: outs[1]!, loops: 2, holdMs: 40 }),
    startLimiterChild({ ...base, out: outs[2]!, loops: 1, holdMs: 60_000 }),
  ]);
  const until = Date.now() + RUN_MS;
  for (const c of children) c.send({ until });
  const victim = children[2]!;
  await waitFor(() => readFileSync(outs[2]!, 'utf8').includes('a '), 'the victim to hold a slot');
  await new Promise((r) => setTimeout(r, 500));
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  await Promise.all(children.map(exited));
  expect(victim.signalCode).toBe('SIGKILL');
  expect(children[0]!.exitCode).toBe(0);
  expect(children[1]!.exitCode).toBe(0);

  const v = intervals(outs[2]!, 2, killedAt);
  const s0 = intervals(outs[0]!, 0, Number.POSITIVE_INFINITY);
  const s1 = intervals(outs[1]!, 1, Number.POSITIVE_INFINITY);
  expect(v.open).toBe(1);
  expect(s0.open + s1.open + s0.lost + s1.lost + v.lost).toBe(0);
  const survivors = [...s0.all, ...s1.all];
  const everyone = [...survivors, ...v.all];
  console.info(
    `${backend}: ${survivors.length} survivor holds; max held ${maxHeld(everyone)}; before TTL ${maxHeld(survivors, killedAt, killedAt + TTL_MS - 1000)}; after TTL ${maxHeld(survivors, killedAt + TTL_MS + 200)}`,
  );
  // The cap held at every instant, the killed holder included.
  expect(maxHeld(everyone)).toBeLessThanOrEqual(MAX);
  // Until its lease ran out (its last renewal was at most TTL/3 before the kill), the dead
  // holder's slot stayed taken: the survivors held at most MAX - 1.
  expect(maxHeld(survivors, killedAt, killedAt + (2 * TTL_MS) / 3 - 200)).toBeLessThanOrEqual(MAX - 1);
  // After the TTL the slot came back: the survivors' four loops held all MAX at once.
  expect(maxHeld(survivors, killedAt + TTL_MS + 200)).toBe(MAX);
}

describe('a concurrency cap shared by three processes, one SIGKILLed while holding', () => {
  it('through Redis', async () => {
    const prefix = `sluice-test:slots:${tag}`;
    const admin = new Redis('redis://127.0.0.1:6379');
    try {
      await scenario('redis', prefix);
    } finally {
      await deleteRedisPrefix({ client: admin, prefix });
      admin.disconnect();
    }
  }, 90_000);

  it('through PostgreSQL', async () => {
    const schema = `sluice_slots_${tag}`;
    const admin = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 1 });
    try {
      await scenario('postgres', schema);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  }, 90_000);
});
