// A hung backend (a proxy that accepts connections and forwards nothing) against real Redis and PostgreSQL: call deadline and runner rejoin.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/Backend.ts';
import { createPostgresBackend } from '../../src/backend/postgres/PostgresBackend.ts';
import { deleteRedisPrefix } from '../../src/backend/redis/admin.ts';
import { createRedisBackend } from '../../src/backend/redis/RedisBackend.ts';
import { partitionedRunner, partitionLeaseName } from '../../src/cluster/runner/PartitionedRunner.ts';
import { type FreezableProxy, type FreezeMode, startFreezableProxy } from '../support/freezableProxy.ts';

const REDIS = { host: '127.0.0.1', port: 6379 };
const PG_URL = process.env.SLUICE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG = { host: '127.0.0.1', port: 5432 };
const RUN = `core13hung${process.pid}`;
const CALL_TIMEOUT_MS = 1500;
/** Slack for a loaded machine: timers, event loop and reconnection. */
const MARGIN_MS = 1500;
const HEARTBEAT_MS = 250;
const FAILURE_TIMEOUT_MS = 1500;
const PARTITIONS = 4;

interface Target {
  readonly name: 'redis' | 'postgres';
  readonly server: { host: string; port: number };
  open(port: number, id: string): Promise<Backend>;
  cleanup(): Promise<void>;
}

const targets: Target[] = [
  {
    name: 'redis',
    server: REDIS,
    open: async (port, id) =>
      createRedisBackend({
        url: `redis://127.0.0.1:${port}`,
        prefix: `${RUN}:${id}`,
        callTimeoutMs: CALL_TIMEOUT_MS,
      }),
    cleanup: async () => {
      const admin = new Redis(`redis://${REDIS.host}:${REDIS.port}`);
      await deleteRedisPrefix({ client: admin, prefix: RUN });
      admin.disconnect();
    },
  },
  {
    name: 'postgres',
    server: PG,
    open: async (port, id) => {
      const url = new URL(PG_URL);
      url.host = `127.0.0.1:${port}`;
      return createPostgresBackend({
        connectionString: url.href,
        schema: `${RUN}_${id}`,
        callTimeoutMs: CALL_TIMEOUT_MS,
      });
    },
    cleanup: async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      const { rows } = await admin.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${RUN}%'`,
      );
      for (const r of rows) await admin.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
      await admin.end();
    },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, maxMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > maxMs) throw new Error(`condition not reached within ${maxMs} ms`);
    await sleep(20);
  }
  return Date.now() - t0;
}

const proxies: FreezableProxy[] = [];
const backends: Backend[] = [];

afterAll(async () => {
  for (const p of proxies) p.heal();
  await Promise.allSettled(backends.map((b) => b.close()));
  await Promise.allSettled(proxies.map((p) => p.close()));
  await Promise.allSettled(targets.map((t) => t.cleanup()));
});

const cases = targets.flatMap((target) =>
  (['drop', 'buffer'] as const).map((mode: FreezeMode) => ({
    target,
    mode,
    label: `${target.name}, ${mode}`,
  })),
);

it('callTimeoutMs must be an integer >= 1 (CONFIG_INVALID naming the field)', () => {
  expect(() => createRedisBackend({ callTimeoutMs: 0 })).toThrow(/`RedisBackend\.callTimeoutMs`/);
});

describe.each(cases)('hung backend ($label)', ({ target, mode }) => {
  it('a call in flight rejects with BACKEND_UNAVAILABLE within callTimeoutMs, and calls work again after the heal', async () => {
    const proxy = await startFreezableProxy(target.server, mode);
    proxies.push(proxy);
    const backend = await target.open(proxy.port, `call${mode}`);
    backends.push(backend);
    await backend.ensureTopic('orders', { partitions: PARTITIONS });
    await backend.append('orders', [{ key: 'k', payload: 1 }]);
    await backend.commit('billing', 'orders', 0, 0);

    proxy.freeze();
    const started = Date.now();
    const commit = backend.commit('billing', 'orders', 0, 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    const append = backend.append('orders', [{ key: 'k', payload: 2 }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const [commitError, appendError] = await Promise.all([commit, append]);
    const elapsed = Date.now() - started;
    console.log(
      `${target.name} (${mode}): hung commit rejected after ${elapsed} ms (callTimeoutMs ${CALL_TIMEOUT_MS})`,
    );
    expect(commitError).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    expect(appendError).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    expect(elapsed).toBeLessThanOrEqual(CALL_TIMEOUT_MS + MARGIN_MS);

    // A call started while still frozen also keeps the deadline (no stale connection, no queue).
    const again = Date.now();
    await expect(backend.committed('billing', 'orders', 0)).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
    });
    expect(Date.now() - again).toBeLessThanOrEqual(CALL_TIMEOUT_MS + MARGIN_MS);

    proxy.heal();
    const healed = Date.now();
    let value: number | undefined;
    for (;;) {
      try {
        value = await backend.committed('billing', 'orders', 0);
        break;
      } catch (e) {
        expect(e).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
        if (Date.now() - healed > CALL_TIMEOUT_MS + MARGIN_MS) throw e;
        await sleep(50);
      }
    }
    console.log(`${target.name} (${mode}): first call answered ${Date.now() - healed} ms after the heal`);
    expect(value).toBeGreaterThanOrEqual(0);
  });

  it('a runner cut off by the hung backend gets its share back within about failureTimeout of the heal', async () => {
    const proxy = await startFreezableProxy(target.server, mode);
    proxies.push(proxy);
    // r1 reaches the backend through the proxy; r2 directly. Same schema / prefix.
    const viaProxy = await target.open(proxy.port, `runner${mode}`);
    const direct = await target.open(target.server.port, `runner${mode}`);
    backends.push(viaProxy, direct);
    await direct.ensureTopic('jobs', { partitions: PARTITIONS });
    const make = (backend: Backend, nodeName: string) => {
      const r = partitionedRunner({
        backend,
        group: 'g',
        topic: 'jobs',
        nodeName,
        heartbeat: HEARTBEAT_MS,
        failureTimeout: FAILURE_TIMEOUT_MS,
        handler: () => {},
      });
      r.on('error', () => {});
      return r;
    };
    const r1 = make(viaProxy, 'r1');
    const r2 = make(direct, 'r2');
    await r1.start();
    await r2.start();
    try {
      const half = PARTITIONS / 2;
      await waitFor(() => r1.assigned().length === half && r2.assigned().length === half, 15_000);
      proxy.freeze();
      // r1's heartbeat and leases expire; r2 takes every partition.
      const takeoverMs = await waitFor(
        () => r2.assigned().length === PARTITIONS,
        FAILURE_TIMEOUT_MS * 4 + MARGIN_MS,
      );
      console.log(
        `${target.name} (${mode}): survivor owned all partitions ${takeoverMs} ms after the freeze`,
      );
      await sleep(FAILURE_TIMEOUT_MS);
      proxy.heal();
      const rejoinMs = await waitFor(
        () => r1.assigned().length === half && r2.assigned().length === half,
        30_000,
      );
      console.log(
        `${target.name} (${mode}): cut-off runner owned its ${half} partitions again ${rejoinMs} ms after the heal`,
      );
      expect(rejoinMs).toBeLessThanOrEqual(FAILURE_TIMEOUT_MS + MARGIN_MS);
      const owners = await Promise.all(
        Array.from({ length: PARTITIONS }, (_, p) => direct.leases.get(partitionLeaseName('g', 'jobs', p))),
      );
      expect(owners.filter((l) => l?.owner.startsWith('r1#'))).toHaveLength(half);
    } finally {
      proxy.heal();
      await Promise.allSettled([r1.stop(), r2.stop()]);
    }
  });
});
