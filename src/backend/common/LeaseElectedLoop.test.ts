// LeaseElectedLoop on a ManualClock: one leader per lease, takeover after expiry, still(), wake, errors.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { createMemoryBackend } from '../memory/MemoryBackend.ts';
import { LeaseElectedLoop, type LeaseElectedLoopOptions } from './LeaseElectedLoop.ts';

function setup() {
  const clock = new ManualClock(1_000_000);
  const backend = createMemoryBackend({ clock });
  const make = (owner: string, extra: Partial<LeaseElectedLoopOptions<string>> = {}) => {
    const worked: string[] = [];
    const errors: unknown[] = [];
    const loop = new LeaseElectedLoop<string>({
      backend,
      clock,
      leaseName: 'test:loop',
      owner,
      leaseTtlMs: 3000,
      firstDelayMs: 1000,
      errorDelayMs: 1000,
      nextDelay: () => 1000,
      work: async () => {
        worked.push(owner);
        return owner;
      },
      onError: (e) => errors.push(e),
      ...extra,
    });
    return { loop, worked, errors };
  };
  return { clock, backend, make };
}

describe('LeaseElectedLoop', () => {
  it('runs rounds on its clock, and only the lease holder works', async () => {
    const { clock, make } = setup();
    const a = make('a');
    const b = make('b');
    await clock.advance(999);
    expect(a.worked).toEqual([]);
    await clock.advance(1);
    await a.loop.runOnce();
    await b.loop.runOnce();
    // Both timers fired at 1000 ms, plus the two explicit rounds: only `a` (first to ask) led.
    expect(b.worked).toEqual([]);
    expect(a.worked.length).toBeGreaterThanOrEqual(2);
    expect(a.loop.leader).toBe(true);
    expect(b.loop.leader).toBe(false);
    await a.loop.close();
    await b.loop.close();
  });

  it('another loop takes over once the leader stops renewing (lease expiry), without close', async () => {
    const { clock, backend, make } = setup();
    const a = make('a', { firstDelayMs: 1_000_000 });
    const b = make('b', { firstDelayMs: 1_000_000 });
    expect(await a.loop.runOnce()).toBe('a');
    expect(await b.loop.runOnce()).toBeNull();
    await clock.advance(2999);
    expect(await b.loop.runOnce()).toBeNull();
    await clock.advance(1);
    expect(await b.loop.runOnce()).toBe('b');
    expect((await backend.leases.get('test:loop'))?.owner).toBe('b');
    await a.loop.close();
    await b.loop.close();
  });

  it('still() turns false when the lease expires mid-round and when the loop closes', async () => {
    const { clock, make } = setup();
    const seen: boolean[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = make('a', {
      firstDelayMs: 1_000_000,
      work: async (_lease, still) => {
        seen.push(still());
        await clock.advance(3000);
        seen.push(still());
        await gate;
        return 'a';
      },
    });
    const round = a.loop.runOnce();
    await clock.advance(0);
    release();
    expect(await round).toBe('a');
    expect(seen).toEqual([true, false]);
    await a.loop.close();
  });

  it('wake() runs the next round now; close() releases the lease and stops the rounds', async () => {
    const { clock, backend, make } = setup();
    const a = make('a', { firstDelayMs: 60_000, nextDelay: () => 60_000 });
    a.loop.wake();
    await clock.advance(0);
    await a.loop.runOnce();
    expect(a.worked.length).toBe(2);
    await a.loop.close();
    expect(a.loop.state).toBe('closed');
    expect(await backend.leases.get('test:loop')).toBeUndefined();
    await clock.advance(600_000);
    expect(a.worked.length).toBe(2);
    expect(await a.loop.runOnce()).toBeNull();
  });

  it('a failing round is reported and the loop goes on after errorDelayMs', async () => {
    const { clock, make } = setup();
    let calls = 0;
    const a = make('a', {
      errorDelayMs: 500,
      work: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return 'ok';
      },
    });
    await clock.advance(1000);
    await a.loop.runOnce().catch(() => {});
    expect(a.errors.map((e) => (e as Error).message)).toEqual(['boom']);
    const before = calls;
    await clock.advance(500);
    await a.loop.runOnce();
    expect(calls).toBeGreaterThan(before);
    await a.loop.close();
  });
});
