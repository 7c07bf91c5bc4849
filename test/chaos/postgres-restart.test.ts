// Chaos: a real PostgreSQL server restarted and stopped under a live backend.
//
// The test runs its own throwaway cluster (pg_createcluster on a free port) rather than
// restarting the shared server on 5432: other test files use that one at the same time, and a
// restart would fail them. The cluster is dropped at the end, whatever happens.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPostgresBackend, type PostgresBackend } from '../../src/backend/postgres/index.ts';
import { isSluiceError, type SluiceError } from '../../src/core/errors.ts';

const run = promisify(execFile);
const VERSION = readdirSync('/etc/postgresql').sort().at(-1)!;
const CLUSTER = `sluice_chaos_${process.pid}`;
let port = 0;

function ctl(action: 'start' | 'stop' | 'restart'): Promise<unknown> {
  const args = ['--skip-systemctl-redirect', VERSION, CLUSTER, action];
  if (action !== 'start') args.push('-m', 'fast');
  return run('pg_ctlcluster', args, { timeout: 60_000 });
}

async function isReady(): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', '127.0.0.1', '-p', String(port), '-q'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await isReady()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cluster ${CLUSTER} did not become ready`);
}

/** Starts the cluster when it is down; used in `finally` so every test leaves it running. */
async function ensureRunning(): Promise<void> {
  if (!(await isReady())) await ctl('start').catch(() => {});
  await waitReady();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
}

/** Drops clusters left by earlier runs whose process is gone (a crashed run cannot clean up). */
async function dropStaleClusters(): Promise<void> {
  const { stdout } = await run('pg_lsclusters', ['-h']);
  for (const line of stdout.split('\n')) {
    const [version, name] = line.trim().split(/\s+/);
    const pid = /^sluice_chaos_(\d+)$/.exec(name ?? '')?.[1];
    if (version === undefined || pid === undefined) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      await run('pg_dropcluster', ['--stop', version, name!]).catch(() => {});
    }
  }
}

/** Settles `p` or fails the test after `ms`: an operation during an outage must not hang. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function unavailable(p: Promise<unknown>, what: string): Promise<SluiceError> {
  const outcome = await within(
    p.then(
      () => undefined,
      (e: unknown) => e,
    ),
    20_000,
    what,
  );
  expect(isSluiceError(outcome), `${what}: expected a SluiceError, got ${String(outcome)}`).toBe(true);
  const e = outcome as SluiceError;
  expect(e.code, `${what}: ${e.message}`).toBe('BACKEND_UNAVAILABLE');
  expect(e.retryable).toBe(true);
  return e;
}

/** Retries `fn` while it fails with a retryable error (the server is coming back). */
async function retrying<T>(fn: () => Promise<T>, what: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await within(fn(), 20_000, what);
    } catch (e) {
      if (attempt >= 50 || !isSluiceError(e) || !e.retryable) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('PostgreSQL backend across server restarts', () => {
  let backend: PostgresBackend | undefined;

  beforeAll(async () => {
    await dropStaleClusters();
    port = await freePort();
    await run('pg_createcluster', [VERSION, CLUSTER, '-p', String(port), '--', '--auth=trust'], {
      timeout: 120_000,
    });
    await ctl('start');
    await waitReady();
    backend = await createPostgresBackend({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      schema: 'chaos',
      connectionTimeoutMs: 2000,
      queryTimeoutMs: 10_000,
      reconnect: { initialMs: 50, maxMs: 500 },
    });
  }, 180_000);

  afterAll(async () => {
    await backend?.close();
    await run('pg_dropcluster', ['--stop', VERSION, CLUSTER], { timeout: 120_000 }).catch(() => {});
  }, 180_000);

  it('after a restart, appends and reads work again and the watch fires again', async () => {
    const b = backend!;
    try {
      await b.ensureTopic('orders', { partitions: 2 });
      const heard: number[] = [];
      b.watch('orders', (p) => heard.push(p));
      await b.append('orders', [{ id: 'before', payload: 'before', partition: 1 }]);
      await vi.waitFor(() => expect(heard).toEqual([1]), { timeout: 10_000, interval: 20 });
      expect(b.listenerConnects).toBe(1);

      await ctl('restart');
      await waitReady();

      // The first call may still meet a connection the restart killed: retryable, then fine.
      await retrying(() => b.append('orders', [{ id: 'after', payload: 'after', partition: 1 }]), 'append');
      const events = await retrying(() => b.read('orders', 1, 0, 10), 'read');
      expect(events.map((e) => [e.offset, e.id])).toEqual([
        [0, 'before'],
        [1, 'after'],
      ]);

      // The LISTEN connection came back by itself and hears new appends.
      await vi.waitFor(() => expect(b.listenerConnects).toBe(2), { timeout: 20_000, interval: 50 });
      expect(b.listenerState).toBe('listening');
      await b.append('orders', [{ payload: 'heard', partition: 0 }]);
      await vi.waitFor(() => expect(heard).toContain(0), { timeout: 10_000, interval: 20 });
    } finally {
      await ensureRunning();
    }
  }, 120_000);

  it('while the server is down every call rejects with BACKEND_UNAVAILABLE; all recover when it is back', async () => {
    const b = backend!;
    try {
      await b.ensureTopic('outage', { partitions: 1 });
      const lease = await b.leases.acquire('p0', 'node-a', 60_000);
      await b.append('outage', [{ id: 'e0', payload: 0 }]);
      await b.commit('g', 'outage', 0, 1, {
        idempotencyKeys: ['k0'],
        fence: { lease: 'p0', token: lease!.fencingToken },
      });
      const heard: number[] = [];
      b.watch('outage', (p) => heard.push(p));
      const connectsBefore = b.listenerConnects;

      await ctl('stop');
      expect(await isReady()).toBe(false);

      await unavailable(b.append('outage', [{ id: 'lost', payload: 'lost' }]), 'append');
      await unavailable(b.read('outage', 0, 0, 10), 'read');
      await unavailable(b.endOffset('outage', 0), 'endOffset');
      await unavailable(b.commit('g', 'outage', 0, 2), 'commit');
      await unavailable(b.leases.renew(lease!, 60_000), 'leases.renew');
      await unavailable(b.membership.heartbeat('node-a'), 'membership.heartbeat');
      await unavailable(b.dlq.count(), 'dlq.count');
      await vi.waitFor(() => expect(b.listenerState).not.toBe('listening'), {
        timeout: 10_000,
        interval: 20,
      });

      await ctl('start');
      await waitReady();

      // Nothing was lost or half-written; the lease and fence still hold; new work goes through.
      expect(await retrying(() => b.committed('g', 'outage', 0), 'committed')).toBe(1);
      expect(await b.processed('g', ['k0'])).toEqual(new Set(['k0']));
      const renewed = await retrying(() => b.leases.renew(lease!, 60_000), 'leases.renew');
      expect(renewed?.fencingToken).toBe(lease!.fencingToken);
      const [r] = await retrying(() => b.append('outage', [{ id: 'e1', payload: 1 }]), 'append');
      expect(r).toEqual({ id: 'e1', partition: 0, offset: 1 });
      await b.commit('g', 'outage', 0, 2, { fence: { lease: 'p0', token: lease!.fencingToken } });
      expect((await b.read('outage', 0, 0, 10)).map((e) => e.id)).toEqual(['e0', 'e1']);

      await vi.waitFor(() => expect(b.listenerConnects).toBeGreaterThan(connectsBefore), {
        timeout: 20_000,
        interval: 50,
      });
      await b.append('outage', [{ id: 'e2', payload: 2 }]);
      await vi.waitFor(() => expect(heard).toContain(0), { timeout: 10_000, interval: 20 });
    } finally {
      await ensureRunning();
    }
  }, 120_000);
});
