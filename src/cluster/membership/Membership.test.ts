// Membership: heartbeats under a prefix, live listing by name, leave.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../backend/memory/index.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { Membership } from './Membership.ts';

describe('Membership', () => {
  it('lists only the live members of its prefix, by name, and forgets a member that left', async () => {
    const clock = new ManualClock(1000);
    const backend = createMemoryBackend({ clock });
    const a = new Membership(backend, 'group-x/', 'a');
    const b = new Membership(backend, 'group-x/', 'b');
    const other = new Membership(backend, 'group-y/', 'a');
    await a.heartbeat({ n: 1 });
    await b.heartbeat({ n: 2 });
    await other.heartbeat({ n: 3 });
    expect(a.id).toBe('group-x/a');
    expect((await a.list(500)).map((m) => [m.name, m.meta])).toEqual([
      ['a', { n: 1 }],
      ['b', { n: 2 }],
    ]);
    await clock.advance(400);
    await a.heartbeat({ n: 4 });
    await clock.advance(200);
    expect((await b.list(500)).map((m) => m.name)).toEqual(['a']); // b's heartbeat is 600 ms old
    await a.leave();
    expect(await b.list(10_000)).toEqual([expect.objectContaining({ name: 'b' })]);
    await backend.close();
  });
});
