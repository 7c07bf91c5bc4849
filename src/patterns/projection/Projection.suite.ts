import { describe, expect, it } from 'vitest';
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import type { ManualClock } from '../../core/ManualClock.ts';
import { defineProjection } from './Projection.ts';

/** What each projection test works with. */
export interface ProjectionSubject {
  readonly backend: Backend;
  readonly clock: ManualClock;
  readonly cleanup: () => Promise<void>;
}

type Op = { account: string; op: 'set' | 'add' | 'mul'; value: number };
type Accounts = Record<string, { balance: number; ops: number }>;

/** Order-sensitive within an account (set/add/mul do not commute), independent across accounts. */
function reduce(state: Accounts, e: LogEvent<Op>): Accounts {
  const { account, op, value } = e.payload;
  const a = (state[account] ??= { balance: 0, ops: 0 });
  a.balance = op === 'set' ? value : op === 'add' ? a.balance + value : a.balance * value;
  a.ops++;
  return state;
}

function ops(round: number, n: number): { key: string; payload: Op }[] {
  const kinds = ['set', 'add', 'mul', 'add'] as const;
  return Array.from({ length: n }, (_, i) => {
    const account = `acct-${(i * 7 + round) % 9}`;
    return {
      key: account,
      payload: { account, op: kinds[(i + round) % 4]!, value: ((i * 13 + round) % 5) + 1 },
    };
  });
}

/**
 * The Projection behaviour suite, run against each backend.
 *
 * Test-only: imports vitest.
 */
export function projectionSuite(name: string, make: () => Promise<ProjectionSubject>): void {
  describe(`Projection on ${name}`, () => {
    async function withSubject(fn: (s: ProjectionSubject) => Promise<void>) {
      const s = await make();
      try {
        await fn(s);
      } finally {
        await s.backend.close();
        await s.cleanup();
      }
    }

    const def = (
      backend: Backend,
      extra: { name?: string; snapshots?: boolean; checkpointEvery?: number } = {},
    ) =>
      defineProjection<Accounts, Op>({
        name: extra.name ?? 'accounts',
        backend,
        topic: 'ledger',
        initial: {},
        reduce,
        batchSize: 7,
        ...(extra.snapshots === undefined ? {} : { snapshots: extra.snapshots }),
        ...(extra.checkpointEvery === undefined ? {} : { checkpointEvery: extra.checkpointEvery }),
      });

    it('the state built incrementally equals the state rebuilt from offset 0', () =>
      withSubject(async ({ backend }) => {
        await backend.ensureTopic('ledger', { partitions: 4 });
        const live = def(backend);
        for (let round = 0; round < 5; round++) {
          await backend.append('ledger', ops(round, 11 + round * 3));
          await live.catchUp();
        }
        const total = Object.values(live.state).reduce((n, a) => n + a.ops, 0);
        expect(total).toBe(11 + 14 + 17 + 20 + 23);
        const fresh = def(backend, { name: 'accounts-rebuilt' });
        expect(await fresh.rebuild()).toEqual(live.state);
        const incremental = structuredClone(live.state);
        expect(await live.rebuild()).toEqual(incremental);
        // The order within a partition matters: a different order gives another state.
        const reversed: Accounts = {};
        for (let p = 0; p < 4; p++) {
          const evs = await backend.read('ledger', p, 0, 1000);
          for (const e of evs.reverse()) reduce(reversed, e as LogEvent<Op>);
        }
        expect(reversed).not.toEqual(incremental);
      }));

    it('catchUp applies only new events and commits its offsets as a consumer group', () =>
      withSubject(async ({ backend }) => {
        await backend.ensureTopic('ledger', { partitions: 3 });
        let calls = 0;
        const p = defineProjection<{ n: number }>({
          name: 'count',
          backend,
          topic: 'ledger',
          initial: () => ({ n: 0 }),
          reduce: (s) => {
            calls++;
            return { n: s.n + 1 };
          },
        });
        await backend.append('ledger', ops(0, 10));
        expect((await p.catchUp()).n).toBe(10);
        expect(await p.catchUp()).toEqual({ n: 10 });
        expect(calls).toBe(10);
        await backend.append('ledger', ops(1, 4));
        expect((await p.catchUp()).n).toBe(14);
        expect(calls).toBe(14);
        expect(await p.lag()).toBe(0);
        for (let q = 0; q < 3; q++) {
          expect(await backend.committed(p.group, 'ledger', q)).toBe(await backend.endOffset('ledger', q));
          expect(p.offsets[q]).toBe(await backend.endOffset('ledger', q));
        }
      }));

    it('a new instance resumes from the latest snapshot instead of replaying everything', () =>
      withSubject(async ({ backend }) => {
        await backend.ensureTopic('ledger', { partitions: 2 });
        await backend.append('ledger', ops(0, 20));
        const first = def(backend, { checkpointEvery: 5 });
        await first.catchUp();
        const snapshots = await backend.endOffset(first.snapshotTopic, 0);
        // Checkpoints happen after a batch once 5 events were applied, and at the end.
        expect(snapshots).toBeGreaterThan(1);

        await backend.append('ledger', ops(1, 6));
        let applied = 0;
        const second = defineProjection<Accounts, Op>({
          name: 'accounts',
          backend,
          topic: 'ledger',
          initial: {},
          reduce: (s, e) => {
            applied++;
            return reduce(s, e);
          },
        });
        const resumed = await second.catchUp();
        expect(applied).toBe(6);
        expect(resumed).toEqual(await first.catchUp());

        // Without snapshots a new instance starts from 0 (offsets are still committed).
        let replayed = 0;
        const noSnap = defineProjection<Accounts, Op>({
          name: 'plain',
          backend,
          topic: 'ledger',
          initial: {},
          snapshots: false,
          reduce: (s, e) => {
            replayed++;
            return reduce(s, e);
          },
        });
        await noSnap.catchUp();
        const again = defineProjection<Accounts, Op>({
          name: 'plain',
          backend,
          topic: 'ledger',
          initial: {},
          snapshots: false,
          reduce,
        });
        expect(await again.catchUp()).toEqual(resumed);
        expect(replayed).toBe(26);
        expect(await backend.topicInfo(noSnap.snapshotTopic)).toBeUndefined();
      }));

    it('a value as initial state is copied: rebuild starts from a clean state', () =>
      withSubject(async ({ backend }) => {
        await backend.ensureTopic('ledger', { partitions: 1 });
        const initial: Accounts = {};
        const p = defineProjection<Accounts, Op>({ name: 'copy', backend, topic: 'ledger', initial, reduce });
        await backend.append('ledger', [{ payload: { account: 'a', op: 'add', value: 2 } }]);
        await p.catchUp();
        expect(await p.rebuild()).toEqual({ a: { balance: 2, ops: 1 } });
        expect(initial).toEqual({});
      }));

    it('run() follows the topic on append notifications until aborted', async (ctx) =>
      withSubject(async ({ backend }) => {
        if (!backend.watch) {
          ctx.skip();
          return;
        }
        await backend.ensureTopic('ledger', { partitions: 2 });
        const p = defineProjection<{ n: number }>({
          name: 'follow',
          backend,
          topic: 'ledger',
          initial: { n: 0 },
          reduce: (s) => ({ n: s.n + 1 }),
        });
        const ctrl = new AbortController();
        // The manual clock never moves: only append notifications can wake the loop.
        const running = p.run({ signal: ctrl.signal, interval: '1h' });
        await expect.poll(() => p.offsets.length, { timeout: 5000 }).toBe(2);
        await backend.append('ledger', ops(0, 3));
        await expect.poll(() => p.state.n, { timeout: 5000 }).toBe(3);
        await backend.append('ledger', ops(1, 2));
        await expect.poll(() => p.state.n, { timeout: 5000 }).toBe(5);
        ctrl.abort();
        await running;
      }));
  });
}
