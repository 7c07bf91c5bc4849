// The connector conformance suite: one set of behaviours every broker source/sink must show.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../../core/errors.ts';
import { stream } from '../../pipeline/stream.ts';
import {
  type ConnectorFixture,
  type ConnectorHarness,
  eventually,
  pause,
  publishInterleaved,
  runUntil,
  type Seen,
} from './harness.ts';

export type { ConnectorFixture, ConnectorHarness, TestPayload } from './harness.ts';

const DELIVERY_LIMIT = 2;

function perKeyOrdered(seen: readonly Seen[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const s of seen) {
    const list = byKey.get(s.key) ?? [];
    list.push(s.n);
    byKey.set(s.key, list);
  }
  return byKey;
}

/**
 * Defines the connector conformance suite (a vitest `describe` block) for one broker: ordering
 * per key, ack after success only, redelivery of what was never acked, dead-lettering after the
 * pipeline's retries and after the delivery limit, and the prefetch bound, each checked against
 * the broker's own counts. The suite is the executable form of the conventions documented in
 * `contract.ts`. Test-only: imports vitest; excluded from the published build.
 *
 * @example
 * ```ts
 * runConnectorConformance('rabbitmq', rabbitHarness);
 * ```
 */
export function runConnectorConformance(name: string, harness: ConnectorHarness): void {
  describe(`connector conformance: ${name}`, () => {
    let fx: ConnectorFixture;
    beforeEach(async () => {
      fx = await harness.create({ deliveryLimit: DELIVERY_LIMIT });
    });
    afterEach(async () => {
      await fx.sink.close();
      await fx.cleanup();
    });

    it('keeps per-key order while keys run in parallel, and acks everything that succeeded', async () => {
      const keys = ['a', 'b', 'c', 'd', 'e'];
      await publishInterleaved(fx.sink, keys, 30);
      let active = 0;
      let peak = 0;
      const seen = await runUntil(
        fx.source({ prefetch: 20 }),
        async (m) => {
          active++;
          peak = Math.max(peak, active);
          await pause(m.payload.n % 3);
          active--;
        },
        (s) => s.length >= 150,
      );
      for (const [key, ns] of perKeyOrdered(seen)) {
        expect(ns, `order of key ${key}`).toEqual(Array.from({ length: 30 }, (_, i) => i));
      }
      expect(peak, 'different keys ran at the same time').toBeGreaterThan(1);
      await eventually(async () => {
        const c = await fx.brokerCounts();
        return c.unacked === 0 && c.ready === 0;
      }, 'the broker to hold no unacked or ready message');
    });

    it('acks only after success: what was taken but not finished is redelivered with the same idempotency key', async () => {
      await publishInterleaved(fx.sink, ['k'], 8);
      const first = await runUntil(
        fx.source({ prefetch: 50 }),
        (m, ctx) =>
          m.payload.n < 3
            ? undefined
            : new Promise((_, reject) =>
                ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
              ),
        (s) => s.some((x) => x.n === 3),
        { drainTimeout: 50 },
      );
      expect(first.map((s) => s.n)).toEqual([0, 1, 2, 3]);
      const second = await runUntil(
        fx.source({ prefetch: 50 }),
        () => undefined,
        (s) => s.length >= 5,
      );
      expect(second.map((s) => s.n)).toEqual([3, 4, 5, 6, 7]);
      expect(second[0]!.deliveryCount).toBeGreaterThan(1);
      expect(second[0]!.idempotencyKey).toBe(first[3]!.idempotencyKey);
      await eventually(async () => {
        const c = await fx.brokerCounts();
        return c.unacked === 0 && c.ready === 0;
      }, 'the broker to hold no unacked or ready message');
    });

    it("dead-letters a message that failed its last retry, and the key's later messages still run in order", async () => {
      await publishInterleaved(fx.sink, ['x'], 4);
      const seen = await runUntil(
        fx.source({ prefetch: 10 }),
        (m) => {
          if (m.payload.n === 1) throw new Error('boom');
        },
        (s) => s.some((x) => x.n === 3),
        { concurrent: { maxWorkers: 2, retry: { attempts: 3, backoff: 5 } } },
      );
      expect(seen.map((s) => [s.n, s.attempt])).toEqual([
        [0, 1],
        [1, 1],
        [1, 2],
        [1, 3],
        [2, 1],
        [3, 1],
      ]);
      await eventually(async () => (await fx.deadLetters()).length === 1, 'the dead letter');
      expect(await fx.deadLetters()).toEqual([{ key: 'x', n: 1 }]);
      await eventually(async () => {
        const c = await fx.brokerCounts();
        return c.unacked === 0 && c.ready === 0;
      }, 'the queue to be empty');
    });

    it('dead-letters an unrecoverable failure after one attempt', async () => {
      await publishInterleaved(fx.sink, ['u'], 2);
      const seen = await runUntil(
        fx.source({ prefetch: 10 }),
        (m) => {
          if (m.payload.n === 0) throw new UnrecoverableError('bad input');
        },
        (s) => s.length >= 2,
        { concurrent: { maxWorkers: 1, retry: { attempts: 5, backoff: 5 } } },
      );
      expect(seen.map((s) => s.n)).toEqual([0, 1]);
      await eventually(async () => (await fx.deadLetters()).length === 1, 'the dead letter');
    });

    it(`dead-letters a message whose consumer crashed ${DELIVERY_LIMIT + 1} times (delivery limit ${DELIVERY_LIMIT})`, async () => {
      await publishInterleaved(fx.sink, ['poison'], 1);
      const deliveries: number[] = [];
      for (let round = 0; round < DELIVERY_LIMIT + 3; round++) {
        if ((await fx.deadLetters()).length > 0) break;
        const source = fx.source({ prefetch: 5 });
        const seen = await runUntil(
          source,
          (_m, ctx) =>
            new Promise((_, reject) =>
              ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
            ),
          (s) => s.length > 0,
          { drainTimeout: 20, timeoutMs: 3_000 },
        ).catch(() => [] as Seen[]);
        for (const s of seen) deliveries.push(s.deliveryCount);
      }
      await eventually(async () => (await fx.deadLetters()).length === 1, 'the dead letter');
      expect(deliveries).toEqual(Array.from({ length: DELIVERY_LIMIT + 1 }, (_, i) => i + 1));
      expect(await fx.deadLetters()).toEqual([{ key: 'poison', n: 0 }]);
    });

    it('never holds more unacked messages than the prefetch, whatever the pipeline could run', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
      await publishInterleaved(fx.sink, keys, 1);
      const prefetch = 5;
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let active = 0;
      let peak = 0;
      let done = 0;
      const source = fx.source({ prefetch });
      const ctrl = new AbortController();
      const run = stream(source)
        .concurrent({ maxWorkers: 8, concurrencyPerWorker: 8 })
        .process(async () => {
          active++;
          peak = Math.max(peak, active);
          await gate;
          active--;
          done++;
        })
        .start({ signal: ctrl.signal });
      await eventually(() => active === prefetch, `${prefetch} items running`);
      await pause(300);
      expect(active).toBe(prefetch);
      expect(source.stats().unacked).toBe(prefetch);
      let counts = { unacked: -1, ready: -1 };
      await eventually(
        async () => {
          counts = await fx.brokerCounts();
          return counts.unacked === prefetch && counts.ready === 30 - prefetch;
        },
        `the broker to count ${prefetch} unacked and ${30 - prefetch} ready (last ${JSON.stringify(counts)})`,
      );
      release();
      await eventually(() => done === 30, 'all 30 items');
      ctrl.abort();
      await run.done;
      expect(peak).toBeLessThanOrEqual(prefetch);
      await eventually(async () => {
        const c = await fx.brokerCounts();
        return c.unacked === 0 && c.ready === 0;
      }, 'the queue to be empty');
    });
  });
}
