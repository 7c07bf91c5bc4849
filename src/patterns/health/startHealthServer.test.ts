// Tests of startHealthServer over real HTTP: /healthz, /readyz checks (false, throw, timeout), draining.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { type HealthServer, startHealthServer } from './startHealthServer.ts';

const servers: HealthServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(options: Parameters<typeof startHealthServer>[0]): Promise<HealthServer> {
  const s = await startHealthServer(options);
  servers.push(s);
  return s;
}

describe('startHealthServer', () => {
  it('answers /healthz with 200 and /readyz with 200 when every check passes', async () => {
    const s = await start({ port: 0, checks: { db: async () => true, cache: () => true } });
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    const live = await fetch(`${s.url}/healthz`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/application\/json/);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['cache', 'db']);
    expect(body.checks.db!.ok).toBe(true);
  });

  it('answers /readyz with 503 naming the failing checks (false, throw, timeout)', async () => {
    const clock = new ManualClock(0);
    let slowStarted!: () => void;
    const started = new Promise<void>((r) => {
      slowStarted = r;
    });
    const s = await start({
      port: 0,
      timeout: 50,
      clock,
      checks: {
        ok: () => true,
        down: () => false,
        broken: () => {
          throw new Error('connection refused');
        },
        slow: () => {
          slowStarted();
          return new Promise<boolean>(() => {});
        },
      },
    });
    const pending = fetch(`${s.url}/readyz`);
    await started;
    await clock.advance(50);
    const res = await pending;
    expect(res.status).toBe(503);
    const body = (await res.json()) as {
      status: string;
      checks: Record<string, { ok: boolean; error?: string }>;
    };
    expect(body.status).toBe('not_ready');
    expect(body.checks.ok).toMatchObject({ ok: true });
    expect(body.checks.down).toMatchObject({ ok: false, error: 'check returned false' });
    expect(body.checks.broken).toMatchObject({ ok: false, error: 'connection refused' });
    expect(body.checks.slow).toMatchObject({ ok: false, error: 'timed out after 50ms' });
    // Liveness does not depend on the checks.
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('reports draining on /readyz, 404 for unknown paths, 405 for other methods, HEAD without body', async () => {
    const s = await start({ port: 0 });
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    s.setDraining(true);
    const draining = await fetch(`${s.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'draining' });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    const post = await fetch(`${s.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${s.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('close() stops listening and is idempotent', async () => {
    const s = await startHealthServer({ port: 0 });
    await fetch(`${s.url}/healthz`);
    await s.close();
    await s.close();
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('rejects invalid options with CONFIG_INVALID naming the field', async () => {
    await expect(startHealthServer({ port: -1 })).rejects.toThrow(/`startHealthServer\.port`/);
    await expect(startHealthServer({ port: 0, checks: { x: 1 as never } })).rejects.toThrow(
      /`startHealthServer\.checks\.x`/,
    );
  });
});
