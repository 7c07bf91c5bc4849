// mapConcurrent against a real local HTTP server that enforces a rate and answers 429 + Retry-After beyond it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../src/core/rateLimited.ts';
import { rateLimit } from '../src/flow/rateLimit.ts';
import { retryAfterFromResponse } from '../src/flow/retryAfter.ts';
import { mapConcurrent } from '../src/pool/mapConcurrent.ts';

// The server allows RATE requests per second: 2,000 calls take at least 40 s per test. BURST is
// the server's tolerance for arrivals bunched by scheduling: at most the calls in flight
// (CONCURRENCY) can arrive together, so it is set just above that.
const RATE = 50;
const CALLS = 2_000;
const CONCURRENCY = 16;
const BURST = CONCURRENCY + 4;
const INTERVAL = 1000 / RATE;

/** The server's own GCRA (not Sluice's): per request, allowed or the wait until it would be. */
class ServerLimit {
  private tat = 0;
  admit(now: number): { ok: true } | { ok: false; waitMs: number } {
    const tat = Math.max(this.tat, now);
    const early = tat - now - (BURST - 1) * INTERVAL;
    if (early > 0) return { ok: false, waitMs: early };
    this.tat = tat + INTERVAL;
    return { ok: true };
  }
}

let server: Server;
let base: string;
let limit = new ServerLimit();
let okPerId = new Map<string, number>();
let refused = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    const verdict = limit.admit(performance.now());
    if (!verdict.ok) {
      refused++;
      // Fractional seconds: the exact wait; a client reading only whole seconds would wait 1 s.
      res.writeHead(429, { 'retry-after': (verdict.waitMs / 1000).toFixed(3) });
      res.end();
      return;
    }
    okPerId.set(id, (okPerId.get(id) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(id);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function reset(): void {
  limit = new ServerLimit();
  okPerId = new Map();
  refused = 0;
}

const ids = Array.from({ length: CALLS }, (_, i) => `call-${i}`);

// The calls do not pass the batch's signal to fetch: Node's fetch keeps one abort listener per
// call on a shared signal until garbage collection, which floods the warnings of a 2,000-call run.

describe('pool against a real HTTP server enforcing a rate', () => {
  it(`${CALLS} calls through rateLimit({rate: ${RATE}, per: '1s'}) get no 429`, async () => {
    reset();
    const statuses = new Map<number, number>();
    const results = await mapConcurrent(
      ids,
      async (id) => {
        const res = await fetch(`${base}/call?id=${id}`);
        await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        return res.status;
      },
      { concurrency: CONCURRENCY, rateLimit: { rate: RATE, per: '1s' } },
    );
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(refused).toBe(0);
    expect(statuses).toEqual(new Map([[200, CALLS]]));
    expect(okPerId.size).toBe(CALLS);
  }, 120_000);

  it('without a limiter, RateLimitedError on 429 makes every call succeed exactly once', async () => {
    reset();
    const results = await mapConcurrent(
      ids,
      async (id) => {
        const res = await fetch(`${base}/call?id=${id}`);
        await res.text();
        if (res.status === 429)
          throw new RateLimitedError({ retryAfter: retryAfterFromResponse(res) ?? 100 });
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        return id;
      },
      { concurrency: CONCURRENCY * 2 },
    );
    // The server did refuse calls (the path under test ran), yet every call ended ok, in one
    // counted attempt, and the server saw each id succeed exactly once.
    expect(refused).toBeGreaterThan(0);
    expect(results.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['ok', 1]));
    expect(okPerId.size).toBe(CALLS);
    expect([...okPerId.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it('a 429 parks the shared limiter: calls of other batches wait too (no 429 storm)', async () => {
    reset();
    // The client believes the API allows twice what it does: the first 429s pause the limiter
    // for the Retry-After the server gave, for every lane of both batches.
    const api = rateLimit({ rate: RATE * 2, per: '1s', burst: 1 });
    const call = async (id: string) => {
      const res = await fetch(`${base}/call?id=${id}`);
      await res.text();
      if (res.status === 429) throw new RateLimitedError({ retryAfter: retryAfterFromResponse(res) ?? 100 });
      return id;
    };
    const half = CALLS / 4;
    const [a, b] = await Promise.all([
      mapConcurrent(ids.slice(0, half), call, { concurrency: CONCURRENCY, rateLimit: api }),
      mapConcurrent(ids.slice(half, 2 * half), call, { concurrency: CONCURRENCY, rateLimit: api }),
    ]);
    expect([...a, ...b].every((r) => r.status === 'ok' && r.attempts === 1)).toBe(true);
    expect(okPerId.size).toBe(2 * half);
    expect([...okPerId.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
