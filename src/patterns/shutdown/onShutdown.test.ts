// Tests of onShutdown: reverse-order drain on a signal, failing closes, timeout, second signal, validation.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { onShutdown, type ShutdownHandle } from './onShutdown.ts';

const handles: ShutdownHandle[] = [];
afterEach(() => {
  for (const h of handles.splice(0)) h.dispose();
});

function track(h: ShutdownHandle): ShutdownHandle {
  handles.push(h);
  return h;
}

describe('onShutdown', () => {
  it('on a signal, drains in reverse registration order (close, stop, function), then exits with 0', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    let releaseWorker!: () => void;
    const worker = {
      stop: () =>
        new Promise<void>((r) => {
          order.push('worker stopping');
          releaseWorker = () => {
            order.push('worker stopped');
            r();
          };
        }),
    };
    const h = track(
      onShutdown(
        [
          { close: async () => void order.push('backend closed') },
          () => void order.push('metrics flushed'),
          worker,
        ],
        { signals: ['SIGUSR2'], exit: (c) => codes.push(c) },
      ),
    );
    expect(h.state).toBe('waiting');
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(h.state).toBe('draining');
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['worker stopping']);
    releaseWorker();
    expect(await h.shutdown()).toBe(0);
    expect(order).toEqual(['worker stopping', 'worker stopped', 'metrics flushed', 'backend closed']);
    expect(codes).toEqual([0]);
    expect(h.state).toBe('done');
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('a failing close is reported, the others still run, and the exit code is 1', async () => {
    const order: string[] = [];
    const errors: unknown[] = [];
    const codes: number[] = [];
    const h = track(
      onShutdown(
        [
          () => void order.push('first'),
          () => {
            throw new Error('broken');
          },
          () => void order.push('last'),
        ],
        { signals: [], exit: (c) => codes.push(c), onError: (e) => errors.push(e) },
      ),
    );
    expect(await h.shutdown('test')).toBe(1);
    expect(order).toEqual(['last', 'first']);
    expect((errors[0] as Error).message).toBe('broken');
    expect(codes).toEqual([1]);
  });

  it('gives up after the timeout with code 1', async () => {
    const clock = new ManualClock(0);
    const codes: number[] = [];
    const errors: unknown[] = [];
    const h = track(
      onShutdown([{ close: () => new Promise(() => {}) }], {
        signals: [],
        timeout: '5s',
        clock,
        exit: (c) => codes.push(c),
        onError: (e) => errors.push(e),
      }),
    );
    const done = h.shutdown();
    await clock.advance(4999);
    expect(codes).toEqual([]);
    await clock.advance(1);
    expect(await done).toBe(1);
    expect(codes).toEqual([1]);
    expect(errors[0]).toMatchObject({ code: 'TIMEOUT' });
  });

  it('a second signal while draining exits at once with 1; add() registers more closeables', async () => {
    const codes: number[] = [];
    const order: string[] = [];
    const h = track(onShutdown([], { signals: ['SIGUSR2'], exit: (c) => codes.push(c) }));
    const remove = h.add(() => void order.push('removed'));
    h.add({ close: () => new Promise(() => void order.push('hanging')) });
    remove();
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(codes).toEqual([1]);
    expect(order).toEqual(['hanging']);
  });

  it('rejects invalid closeables and options with CONFIG_INVALID', () => {
    expect(() => onShutdown([{} as never])).toThrow(/`closeables\[0\]`/);
    expect(() => onShutdown([], { timeout: 'never' })).toThrow(/`onShutdown\.timeout`/);
  });
});
