// Conformance tests of commits fenced by a lease's fencing token.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: commits fenced by a lease's fencing token. */
export function fencingTests(h: () => Harness): void {
  describe('fencing', () => {
    it('a commit fenced with the current token succeeds', async () => {
      const b = h().backend;
      const lease = await b.leases.acquire('partition/t/0', 'node-a', 10_000);
      expect(lease).not.toBeNull();
      await b.commit('g', 't', 0, 4, {
        idempotencyKeys: ['k'],
        fence: { lease: lease!.name, token: lease!.fencingToken },
      });
      expect(await b.committed('g', 't', 0)).toBe(4);
      expect(await b.processed('g', ['k'])).toEqual(new Set(['k']));
    });

    it('a stale token after a takeover is FENCED: offset and keys unchanged', async () => {
      const { backend: b, clock } = h();
      const old = await b.leases.acquire('p0', 'node-a', 1000);
      await b.commit('g', 't', 0, 2, { fence: { lease: 'p0', token: old!.fencingToken } });
      await clock.advance(1000);
      const now = await b.leases.acquire('p0', 'node-b', 1000);
      expect(now!.fencingToken).toBeGreaterThan(old!.fencingToken);
      const err = await rejectsWithCode(
        b.commit('g', 't', 0, 8, {
          idempotencyKeys: ['stale'],
          fence: { lease: 'p0', token: old!.fencingToken },
        }),
        'FENCED',
      );
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('p0');
      expect(await b.committed('g', 't', 0)).toBe(2);
      expect(await b.processed('g', ['stale'])).toEqual(new Set());
      await b.commit('g', 't', 0, 8, { fence: { lease: 'p0', token: now!.fencingToken } });
      expect(await b.committed('g', 't', 0)).toBe(8);
    });

    it('a commit after the lease expired is FENCED, and succeeds again once renewed', async () => {
      const { backend: b, clock } = h();
      const lease = await b.leases.acquire('p0', 'node-a', 1000);
      const fence = { lease: 'p0', token: lease!.fencingToken };
      await clock.advance(999);
      await b.commit('g', 't', 0, 1, { fence });
      await clock.advance(1);
      await rejectsWithCode(b.commit('g', 't', 0, 2, { fence }), 'FENCED');
      expect(await b.committed('g', 't', 0)).toBe(1);
      const renewed = await b.leases.renew(lease!, 1000);
      expect(renewed?.fencingToken).toBe(lease!.fencingToken);
      await b.commit('g', 't', 0, 2, { fence });
      expect(await b.committed('g', 't', 0)).toBe(2);
    });

    it('a commit fenced by a released or never-acquired lease is FENCED', async () => {
      const b = h().backend;
      const lease = await b.leases.acquire('p0', 'node-a', 1000);
      expect(await b.leases.release(lease!)).toBe(true);
      await rejectsWithCode(
        b.commit('g', 't', 0, 1, { fence: { lease: 'p0', token: lease!.fencingToken } }),
        'FENCED',
      );
      await rejectsWithCode(b.commit('g', 't', 0, 1, { fence: { lease: 'never', token: 1 } }), 'FENCED');
      expect(await b.committed('g', 't', 0)).toBe(0);
    });

    it('only the exact current token passes: a larger or smaller one is FENCED', async () => {
      const b = h().backend;
      await b.leases.acquire('p0', 'node-a', 1000);
      await b.leases.release((await b.leases.get('p0'))!);
      const lease = await b.leases.acquire('p0', 'node-a', 1000);
      const token = lease!.fencingToken;
      await rejectsWithCode(b.commit('g', 't', 0, 1, { fence: { lease: 'p0', token: token + 1 } }), 'FENCED');
      await rejectsWithCode(b.commit('g', 't', 0, 1, { fence: { lease: 'p0', token: token - 1 } }), 'FENCED');
      expect(await b.committed('g', 't', 0)).toBe(0);
      await b.commit('g', 't', 0, 1, { fence: { lease: 'p0', token } });
      expect(await b.committed('g', 't', 0)).toBe(1);
    });
  });
}
