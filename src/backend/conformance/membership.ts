// Conformance tests of membership by heartbeats: join, meta, liveness window, leave.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode, T0 } from './harness.ts';

/** Conformance: membership by heartbeats. */
export function membershipTests(h: () => Harness): void {
  describe('membership', () => {
    it('a first heartbeat joins; members lists the node with its meta and times', async () => {
      const b = h().backend;
      expect(await b.membership.members(5000)).toEqual([]);
      await b.membership.heartbeat('n1', { host: 'h1', pid: 42, tags: ['x'], nested: { ok: true } });
      await b.membership.heartbeat('n2');
      expect(await b.membership.members(5000)).toEqual([
        {
          node: 'n1',
          meta: { host: 'h1', pid: 42, tags: ['x'], nested: { ok: true } },
          lastHeartbeat: T0,
          joinedAt: T0,
        },
        { node: 'n2', meta: {}, lastHeartbeat: T0, joinedAt: T0 },
      ]);
    });

    it('members are the nodes heard from within the failure timeout (inclusive)', async () => {
      const { backend: b, clock } = h();
      await b.membership.heartbeat('old');
      await clock.advance(2000);
      await b.membership.heartbeat('new');
      await clock.advance(3000);
      expect((await b.membership.members(5000)).map((m) => m.node)).toEqual(['new', 'old']);
      await clock.advance(1);
      expect((await b.membership.members(5000)).map((m) => m.node)).toEqual(['new']);
      expect((await b.membership.members(60_000)).map((m) => m.node)).toEqual(['new', 'old']);
      await b.membership.heartbeat('old');
      expect((await b.membership.members(0)).map((m) => m.node)).toEqual(['old']);
    });

    it('heartbeats refresh lastHeartbeat, keep joinedAt, and replace meta only when given', async () => {
      const { backend: b, clock } = h();
      await b.membership.heartbeat('n1', { v: 1, extra: 'x' });
      await clock.advance(1000);
      await b.membership.heartbeat('n1');
      expect(await b.membership.members(5000)).toEqual([
        { node: 'n1', meta: { v: 1, extra: 'x' }, lastHeartbeat: T0 + 1000, joinedAt: T0 },
      ]);
      await clock.advance(1000);
      await b.membership.heartbeat('n1', { v: 2 });
      expect(await b.membership.members(5000)).toEqual([
        { node: 'n1', meta: { v: 2 }, lastHeartbeat: T0 + 2000, joinedAt: T0 },
      ]);
    });

    it('leave removes a member; a later heartbeat rejoins with a new joinedAt', async () => {
      const { backend: b, clock } = h();
      await b.membership.heartbeat('n1', { v: 1 });
      await b.membership.heartbeat('n2');
      await b.membership.leave('n1');
      await b.membership.leave('never-joined');
      expect((await b.membership.members(5000)).map((m) => m.node)).toEqual(['n2']);
      await clock.advance(500);
      await b.membership.heartbeat('n1');
      expect((await b.membership.members(5000)).find((m) => m.node === 'n1')).toEqual({
        node: 'n1',
        meta: {},
        lastHeartbeat: T0 + 500,
        joinedAt: T0 + 500,
      });
    });

    it('members are ordered by node name in code point order', async () => {
      const b = h().backend;
      for (const node of ['b', 'a-1', 'C', 'a', 'node-10', 'node-2']) await b.membership.heartbeat(node);
      expect((await b.membership.members(5000)).map((m) => m.node)).toEqual([
        'C',
        'a',
        'a-1',
        'b',
        'node-10',
        'node-2',
      ]);
    });

    it('rejects invalid nodes, meta and timeouts with CONFIG_INVALID', async () => {
      const b = h().backend;
      await rejectsWithCode(b.membership.heartbeat(''), 'CONFIG_INVALID');
      await rejectsWithCode(
        b.membership.heartbeat('n', [] as unknown as Record<string, unknown>),
        'CONFIG_INVALID',
      );
      await rejectsWithCode(b.membership.members(-1), 'CONFIG_INVALID');
      expect(await b.membership.members(5000)).toEqual([]);
    });
  });
}
