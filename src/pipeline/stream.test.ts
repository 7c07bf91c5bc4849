// Tests the pipeline builder end to end: order, retries, backpressure, broadcast, watermark, stop.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { Err, Ok } from './result.ts';
import { stream } from './stream.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));
const randomDelay = () => new Promise<void>((r) => setTimeout(r, Math.floor(Math.random() * 3)));

interface Ev {
  key: string;
  n: number;
}

function events(keys: number, perKey: number): Ev[] {
  const out: Ev[] = [];
  for (let n = 0; n < perKey; n++) for (let k = 0; k < keys; k++) out.push({ key: `k${k}`, n });
  return out;
}

describe('stream().collect()', () => {
  it('returns values in input order with a report', async () => {
    const { results, errors, report } = await stream([1, 2, 3, 4, 5])
      .concurrent({ maxWorkers: 3 })
      .process(async (n) => {
        await randomDelay();
        return n * 10;
      })
      .collect();
    expect(results).toEqual([10, 20, 30, 40, 50]);
    expect(errors).toEqual([]);
    expect(report).toMatchObject({
      total: 5,
      ok: 5,
      failed: 0,
      maxWorkers: 3,
      strategy: 'round_robin',
      lowWatermark: 5,
    });
  });

  it('keeps strict order per key while running different keys in parallel', async () => {
    const seen = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    const activeKeys = new Set<string>();
    const input = events(20, 30);
    const { results, report } = await stream(input)
      .partitionBy((e) => e.key)
      .concurrent({ maxWorkers: 4, concurrencyPerWorker: 3 })
      .process(async (e) => {
        expect(activeKeys.has(e.key)).toBe(false);
        activeKeys.add(e.key);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await randomDelay();
        const list = seen.get(e.key) ?? [];
        list.push(e.n);
        seen.set(e.key, list);
        running--;
        activeKeys.delete(e.key);
        return e;
      })
      .collect();
    expect(results).toEqual(input);
    expect(report.strategy).toBe('consistent_hash');
    for (const [, ns] of seen) expect(ns).toEqual([...Array(30).keys()]);
    expect(maxRunning).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(12);
  });

  it('a retrying item blocks only its own key; others keep flowing', async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    let failOnce = true;
    const input = [
      { key: 'a', n: 1 },
      { key: 'b', n: 1 },
      { key: 'a', n: 2 },
      { key: 'b', n: 2 },
      { key: 'b', n: 3 },
    ];
    const p = stream(input, { clock })
      .partitionBy((e) => e.key)
      .concurrent({ maxWorkers: 1, retry: { attempts: 3, backoff: 1000 } })
      .process((e) => {
        if (e.key === 'a' && e.n === 1 && failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        order.push(`${e.key}${e.n}`);
        return e.n;
      })
      .collect();
    await flushMicrotasks(10);
    // a1 is waiting for its retry: b's items (same single worker) went through, a2 did not.
    expect(order).toEqual(['b1', 'b2', 'b3']);
    await clock.advance(999);
    expect(order).toEqual(['b1', 'b2', 'b3']);
    await clock.advance(1);
    const { results, report } = await p;
    expect(order).toEqual(['b1', 'b2', 'b3', 'a1', 'a2']);
    expect(results).toEqual([1, 1, 2, 2, 3]);
    expect(report.retries).toBe(1);
  });

  it('sends poison items to onError after the last attempt and keeps going', async () => {
    const clock = new ManualClock();
    const dead: Array<{ item: number; attempts: number; message: string }> = [];
    const p = stream([1, 2, 3, 4], { clock })
      .concurrent({ maxWorkers: 2, retry: { attempts: 3, backoff: 10 } })
      .process((n) => {
        if (n === 2) throw new Error('poison');
        if (n === 3) return Err(new Error('bad three'));
        return Ok(n);
      })
      .onError((error, item, info) => {
        dead.push({ item, attempts: info.attempts, message: error.message });
      })
      .collect();
    const { results, errors, report } = await clock.runUntil(p);
    expect(results).toEqual([1, 4]);
    expect(dead).toEqual(
      expect.arrayContaining([
        { item: 2, attempts: 3, message: 'poison' },
        { item: 3, attempts: 3, message: 'bad three' },
      ]),
    );
    expect(errors.map((e) => e.item)).toEqual([2, 3]);
    expect(report).toMatchObject({ ok: 2, failed: 2, retries: 4 });
  });

  it('never retries an UnrecoverableError', async () => {
    let calls = 0;
    const { errors } = await stream(['x'])
      .concurrent({ maxWorkers: 1, retry: { attempts: 5, backoff: 0 } })
      .process(() => {
        calls++;
        throw new UnrecoverableError('no');
      })
      .collect();
    expect(calls).toBe(1);
    expect(errors[0]?.attempts).toBe(1);
  });

  it('bounds items in flight and applies backpressure to the source', async () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield i;
      }
    }
    const gates: Array<() => void> = [];
    const run = stream(source())
      .concurrent({ maxWorkers: 2, maxInFlight: 16 })
      .process(() => new Promise<void>((r) => gates.push(r)))
      .start();
    await flushMicrotasks(10);
    expect(run.inFlight).toBe(16);
    expect(pulled).toBe(16);
    expect(gates.length).toBe(2);
    // Free one slot: exactly one more item is pulled.
    gates.shift()?.();
    await flushMicrotasks(10);
    expect(pulled).toBe(17);
    expect(run.inFlight).toBe(16);
    const stopped = run.stop();
    for (const g of gates) g();
    const report = await stopped;
    expect(report.total).toBe(17);
    expect(report.ok).toBe(3);
    expect(report.cancelled).toBeGreaterThan(0);
  });

  it('broadcast delivers each item to every worker', async () => {
    const seen: string[] = [];
    const { results, report } = await stream(['a', 'b'])
      .concurrent({ maxWorkers: 3, strategy: 'broadcast' })
      .process((x, ctx) => {
        seen.push(`${x}@${ctx.workerId}`);
        return `${x}${ctx.workerId}`;
      })
      .collect();
    expect(seen.sort()).toEqual(['a@0', 'a@1', 'a@2', 'b@0', 'b@1', 'b@2']);
    expect(results).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
    expect(report).toMatchObject({ total: 2, ok: 6 });
  });

  it('exposes a low watermark: every item before it is done', async () => {
    const gates = new Map<number, () => void>();
    const marks: number[] = [];
    const run = stream([0, 1, 2, 3])
      .concurrent({ maxWorkers: 4 })
      .process((n) => new Promise<void>((r) => gates.set(n, r)))
      .start();
    run.on('watermark', (w) => marks.push(w));
    await flushMicrotasks(5);
    expect(run.lowWatermark).toBe(0);
    gates.get(2)?.();
    gates.get(1)?.();
    await flushMicrotasks(5);
    expect(run.lowWatermark).toBe(0);
    gates.get(0)?.();
    await flushMicrotasks(5);
    expect(run.lowWatermark).toBe(3);
    gates.get(3)?.();
    await run.done;
    expect(marks).toEqual([3, 4]);
  });

  it('times out slow attempts with TIMEOUT and aborts their signal', async () => {
    const clock = new ManualClock();
    let aborted: unknown;
    const p = stream([1], { clock })
      .concurrent({ maxWorkers: 1, timeout: '1s' })
      .process(
        (_n, ctx) =>
          new Promise((_r, reject) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason;
              reject(ctx.signal.reason);
            });
          }),
      )
      .collect();
    await clock.advance(1000);
    const { errors } = await p;
    expect(errors[0]?.error).toMatchObject({ code: 'TIMEOUT' });
    expect(aborted).toMatchObject({ code: 'TIMEOUT' });
  });

  it('reads Node Readable streams and async iterables', async () => {
    const fromReadable = await stream(Readable.from(['x', 'y', 'z']))
      .concurrent({ maxWorkers: 2 })
      .process((s: string) => s.toUpperCase())
      .collect();
    expect(fromReadable.results).toEqual(['X', 'Y', 'Z']);
    async function* gen() {
      for (let i = 0; i < 5; i++) {
        await tick();
        yield i;
      }
    }
    const fromAsync = await stream(gen())
      .concurrent({ maxWorkers: 2 })
      .process((n) => n + 1)
      .collect();
    expect(fromAsync.results).toEqual([1, 2, 3, 4, 5]);
  });

  it('emits item_done once per item with the time from first attempt to outcome', async () => {
    const clock = new ManualClock(500);
    const done: Array<{ seq: number; attempts: number; durationMs: number; outcome: string }> = [];
    let failures = 0;
    const run = stream(['a', 'b'], { clock })
      .concurrent({ maxWorkers: 1, retry: { attempts: 3, backoff: 250 } })
      .process((x) => {
        if (x === 'a' && failures++ < 2) throw new Error('again');
        if (x === 'b') throw new UnrecoverableError('no');
        return x;
      })
      .start();
    run.on('item_done', ({ seq, attempts, durationMs, outcome }) =>
      done.push({ seq, attempts, durationMs, outcome }),
    );
    await clock.runUntil(run.done);
    expect(done.sort((p, q) => p.seq - q.seq)).toEqual([
      { seq: 0, attempts: 3, durationMs: 500, outcome: 'ok' },
      { seq: 1, attempts: 1, durationMs: 0, outcome: 'failed' },
    ]);
  });

  it('gives idempotency keys stable across retries', async () => {
    const clock = new ManualClock();
    const keys: string[] = [];
    let first = true;
    const p = stream(['a'], { clock })
      .name('orders')
      .concurrent({ maxWorkers: 1, retry: { attempts: 2, backoff: 5 } })
      .process((_x, ctx) => {
        keys.push(ctx.idempotencyKey);
        if (first) {
          first = false;
          throw new Error('again');
        }
      })
      .collect();
    await clock.runUntil(p);
    expect(keys).toEqual(['orders:0', 'orders:0']);
  });

  it('stops gracefully on abort: started items finish, queued ones are cancelled', async () => {
    const ac = new AbortController();
    const finished: number[] = [];
    const gates: Array<() => void> = [];
    const p = stream([...Array(100).keys()])
      .concurrent({ maxWorkers: 2, maxInFlight: 10 })
      .process(async (n) => {
        await new Promise<void>((r) => gates.push(r));
        finished.push(n);
      })
      .run({ signal: ac.signal });
    await flushMicrotasks(5);
    expect(gates.length).toBe(2);
    ac.abort();
    for (const g of gates) g();
    const report = await p;
    expect(report.stopReason).toBe('aborted');
    expect(finished.sort((a, b) => a - b)).toEqual([0, 1]);
    expect(report).toMatchObject({ total: 10, ok: 2, cancelled: 8 });
  });

  it('fails items whose key cannot be computed without blocking the others', async () => {
    const { results, errors } = await stream([{ id: 'a' }, null, { id: 'b' }] as Array<{ id: string } | null>)
      .partitionBy((x) => (x as { id: string }).id)
      .concurrent({ maxWorkers: 2 })
      .process((x) => x?.id)
      .collect();
    expect(results).toEqual(['a', 'b']);
    expect(errors.map((e) => e.seq)).toEqual([1]);
  });

  it('rejects bad options with CONFIG_INVALID naming the field and value', () => {
    const s = stream([1])
      .concurrent({ maxWorkers: 0 })
      .process((n) => n);
    expect(() => s.run()).toThrowError('Expected `concurrent.maxWorkers` to be an integer >= 1, got 0');
    expect(() =>
      stream([1])
        .concurrent({ maxWorkers: 1, strategy: 'random' as never })
        .process((n) => n)
        .run(),
    ).toThrowError(/`concurrent.strategy`.*got "random"/);
    expect(() => stream([1]).run()).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => stream(42 as never)).toThrowError(/`source`/);
    expect(() => stream([1]).process('nope' as never)).toThrowError(/`process`/);
  });
});
