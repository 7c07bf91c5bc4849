// Cluster membership on ManualClocks over a memory backend: join, failure, leave, advertised meta, option checks.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../backend/Backend.ts';
import { createMemoryBackend } from '../../backend/memory/index.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { Cluster } from './Cluster.ts';

let world: ManualClock;
let backend: Backend;
function reset(): void {
  world = new ManualClock(1_000_000);
  backend = createMemoryBackend({ clock: world });
}

describe('Cluster', () => {
  it('reports joined, failed and left nodes', async () => {
    reset();
    const ca = new ManualClock(world.now());
    const cb = new ManualClock(world.now());
    const a = await Cluster.start({ nodeName: 'a', backend, heartbeat: 100, failureTimeout: 500, clock: ca });
    const seen: string[] = [];
    a.on('node_joined', (m) => seen.push(`joined ${m.node}`));
    a.on('node_failed', (m) => seen.push(`failed ${m.node}`));
    a.on('node_left', (m) => seen.push(`left ${m.node}`));
    const b = await Cluster.start({ nodeName: 'b', backend, heartbeat: 100, failureTimeout: 500, clock: cb });
    const tick = async (ms: number, both: boolean) => {
      for (let t = 0; t < ms; t += 10) {
        await world.advance(10);
        await ca.advance(10);
        if (both) await cb.advance(10);
      }
    };
    await tick(200, true);
    expect(a.members().map((m) => m.node)).toEqual(['a', 'b']);
    await tick(700, false); // b stops heartbeating
    expect(a.members().map((m) => m.node)).toEqual(['a']);
    cb.set(world.now());
    await tick(200, true); // b is back
    await cb.runUntil(b.close());
    await tick(200, false);
    expect(seen).toEqual(['joined b', 'failed b', 'joined b', 'left b']);
    await ca.runUntil(a.close());
  });

  it('rejects a failureTimeout not longer than the heartbeat', async () => {
    reset();
    await expect(
      Cluster.start({ nodeName: 'a', backend, heartbeat: '1s', failureTimeout: '1s' }),
    ).rejects.toThrow(/`cluster.failureTimeout`/);
    await expect(Cluster.start({ nodeName: 'a#1', backend })).rejects.toThrow(/`cluster.nodeName`/);
  });

  it('publishes advertised meta with the next heartbeat and removes it again', async () => {
    reset();
    const clock = new ManualClock(world.now());
    const a = await Cluster.start({ nodeName: 'a', backend, meta: { zone: 'z1' }, clock });
    a.advertise('dsup:x', { behaviors: ['w'] });
    await a.refresh();
    expect(a.member('a')?.meta).toEqual({ zone: 'z1', 'dsup:x': { behaviors: ['w'] } });
    a.advertise('dsup:x', undefined);
    await a.refresh();
    expect(a.member('a')?.meta).toEqual({ zone: 'z1' });
    await a.close();
  });
});
