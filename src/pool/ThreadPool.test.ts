// ThreadPool tests on real worker threads: results, errors, crashes and OOM isolation, cancellation, transfers, queue limit, idle stop, close.
import { afterEach, describe, expect, it } from 'vitest';
import type { ThreadTask } from '../../test/fixtures/pool/thread-task.ts';
import { SluiceError, UnrecoverableError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { ThreadPool, type ThreadPoolOptions } from './ThreadPool.ts';

const TASK = new URL('../../test/fixtures/pool/thread-task.ts', import.meta.url);
const JS_TASK = new URL('../../test/fixtures/pool/thread-task.mjs', import.meta.url);
const NO_DEFAULT = new URL('../../test/fixtures/pool/thread-no-default.mjs', import.meta.url);

const pools: ThreadPool<never, unknown>[] = [];
function pool<A = ThreadTask, R = unknown>(opts: Partial<ThreadPoolOptions> = {}): ThreadPool<A, R> {
  const p = new ThreadPool<A, R>({ file: TASK, threads: 2, ...opts });
  pools.push(p as unknown as ThreadPool<never, unknown>);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close({ force: true })));
});

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('ThreadPool', () => {
  it('runs tasks on threads and returns their results (TypeScript module)', async () => {
    const p = pool();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => p.run({ op: 'double', n })));
    expect(results).toEqual([2, 4, 6, 8, 10]);
    expect(await p.run({ op: 'async', n: 7 })).toBe('async 7');
    const ids = new Set(await Promise.all([1, 2, 3, 4].map(() => p.run({ op: 'threadId' }))));
    expect([...ids].every((id) => typeof id === 'number' && id > 0)).toBe(true);
    expect(p.stats()).toMatchObject({
      threads: 2,
      completed: 10,
      failed: 0,
      queued: 0,
      busy: 0,
      replaced: 0,
    });
  });

  it('loads plain JavaScript modules and file paths', async () => {
    const p = pool<string, string>({ file: JS_TASK.pathname });
    expect(await p.run('x')).toBe('js:x');
  });

  it('propagates thrown errors, preserving SluiceError codes', async () => {
    const p = pool();
    const plain = await p.run({ op: 'throw', n: 5 }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(Error);
    expect(plain).toMatchObject({ name: 'TypeError', message: 'bad value 5' });
    const coded = await p.run({ op: 'sluice', n: 9 }).catch((e: unknown) => e);
    expect(coded).toBeInstanceOf(SluiceError);
    expect(coded).toMatchObject({ code: 'NOT_FOUND', retryable: true, context: { n: 9 } });
    const unrecoverable = await p.run({ op: 'unrecoverable' }).catch((e: unknown) => e);
    expect(unrecoverable).toBeInstanceOf(UnrecoverableError);
    expect(p.stats()).toMatchObject({ failed: 3, replaced: 0 });
    expect(await p.run({ op: 'double', n: 1 })).toBe(2);
  });

  it('isolates a thread that calls process.exit and replaces it', async () => {
    const p = pool();
    const [crashed, ok] = await Promise.allSettled([p.run({ op: 'exit' }), p.run({ op: 'async', n: 1 })]);
    expect(crashed.status).toBe('rejected');
    expect((crashed as PromiseRejectedResult).reason).toMatchObject({
      code: 'WORKER_CRASHED',
      context: { exitCode: 3 },
    });
    expect(ok).toEqual({ status: 'fulfilled', value: 'async 1' });
    expect(p.stats()).toMatchObject({ replaced: 1, failed: 1 });
    expect(await Promise.all([1, 2, 3].map((n) => p.run({ op: 'double', n })))).toEqual([2, 4, 6]);
    expect(p.stats().threads).toBe(2);
  });

  it('reports an uncaught error in a thread as WORKER_CRASHED with the cause', async () => {
    const p = pool({ threads: 1 });
    const err = await p.run({ op: 'uncaught' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WORKER_CRASHED' });
    expect((err as SluiceError).message).toContain('uncaught in thread');
    expect(await p.run({ op: 'double', n: 4 })).toBe(8);
    expect(p.stats().replaced).toBe(1);
  });

  it('isolates a thread that runs out of memory', async () => {
    const p = pool({
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    const err = await p.run({ op: 'oom' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WORKER_CRASHED' });
    expect(await p.run({ op: 'double', n: 21 })).toBe(42);
    expect(p.stats()).toMatchObject({ replaced: 1, failed: 1, completed: 1 });
  });

  it('cancels queued and running tasks through their signal', async () => {
    const p = pool({ threads: 1 });
    const running = new AbortController();
    const queued = new AbortController();
    const spin = p.run({ op: 'spin', n: 20_000 }, { signal: running.signal });
    const waiting = p.run({ op: 'double', n: 1 }, { signal: queued.signal });
    const after = p.run({ op: 'double', n: 2 });
    // All three wait for the thread to start.
    expect(p.stats().queued).toBe(3);
    queued.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(p.stats().queued).toBe(2);
    await until(() => p.stats().busy === 1, 'the spin task to start');
    running.abort();
    await expect(spin).rejects.toMatchObject({ code: 'ABORTED' });
    // The stopped thread is replaced on demand and the queue goes on.
    expect(await after).toBe(4);
    expect(p.stats()).toMatchObject({ cancelled: 2, completed: 1, replaced: 0 });
    const pre = new AbortController();
    pre.abort();
    await expect(p.run({ op: 'double', n: 1 }, { signal: pre.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('transfers buffers in the transfer list', async () => {
    const p = pool({ threads: 1 });
    const buf = new Uint8Array([1, 2, 3, 4]).buffer;
    expect(await p.run({ op: 'bytes', buf }, { transferList: [buf] })).toBe(10);
    expect(buf.byteLength).toBe(0);
  });

  it('rejects with QUEUE_FULL beyond maxQueue', async () => {
    const p = pool({ threads: 1, maxQueue: 1 });
    const a = p.run({ op: 'async', n: 1 });
    const b = p.run({ op: 'async', n: 2 });
    await expect(p.run({ op: 'async', n: 3 })).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(await Promise.all([a, b])).toEqual(['async 1', 'async 2']);
  });

  it('stops idle threads after idleTimeout and starts them again on demand', async () => {
    const clock = new ManualClock();
    const p = pool({ threads: 1, idleTimeout: '1s', clock });
    expect(await p.run({ op: 'double', n: 1 })).toBe(2);
    expect(p.stats().threads).toBe(1);
    await clock.advance(999);
    expect(p.stats().threads).toBe(1);
    await clock.advance(1);
    await until(() => p.stats().threads === 0, 'the idle thread to stop');
    expect(await p.run({ op: 'double', n: 2 })).toBe(4);
    expect(p.stats()).toMatchObject({ threads: 1, replaced: 0 });
  });

  it('close() drains pending tasks, then refuses new ones', async () => {
    const p = pool({ threads: 1 });
    const tasks = [1, 2, 3].map((n) => p.run({ op: 'async', n }));
    const closed = p.close();
    expect(p.state).toBe('closing');
    await expect(p.run({ op: 'double', n: 1 })).rejects.toMatchObject({ code: 'CLOSED' });
    await closed;
    expect(await Promise.all(tasks)).toEqual(['async 1', 'async 2', 'async 3']);
    expect(p.state).toBe('closed');
    expect(p.stats().threads).toBe(0);
  });

  it('close({ force }) and close({ timeout }) reject what is pending with CLOSED', async () => {
    const p = pool({ threads: 1 });
    const spin = p.run({ op: 'spin', n: 20_000 }).catch((e: unknown) => e);
    const queued = p.run({ op: 'double', n: 1 }).catch((e: unknown) => e);
    await until(() => p.stats().busy === 1, 'the spin task to start');
    await p.close({ force: true });
    expect(await spin).toMatchObject({ code: 'CLOSED' });
    expect(await queued).toMatchObject({ code: 'CLOSED' });

    const clock = new ManualClock();
    const q = pool({ threads: 1, clock });
    const spin2 = q.run({ op: 'spin', n: 20_000 }).catch((e: unknown) => e);
    await until(() => q.stats().busy === 1, 'the spin task to start');
    const closing = q.close({ timeout: '2s' });
    await clock.advance(1999);
    expect(q.state).toBe('closing');
    await clock.advance(1);
    await closing;
    expect(await spin2).toMatchObject({ code: 'CLOSED' });
    expect(q.state).toBe('closed');
  });

  it('validates its options and fails tasks when the module cannot be used', async () => {
    expect(() => new ThreadPool({ file: TASK, threads: 0 })).toThrow(
      'Expected `threads` to be an integer >= 1, got 0',
    );
    expect(() => new ThreadPool({ file: '/does/not/exist.ts' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('`file`') }),
    );
    expect(() => new ThreadPool({ file: TASK, idleTimeout: 'later' })).toThrow('`idleTimeout`');
    const p = pool({ file: NO_DEFAULT, threads: 1 });
    const err = await p.run({ op: 'double' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WORKER_INIT_FAILED' });
    expect((err as Error).message).toContain('default export');
  });
});
