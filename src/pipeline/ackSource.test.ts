// Unit tests of stream(ackSource): keys, idempotency keys, settle outcomes and close.
import { describe, expect, it } from 'vitest';
import type { AckSource, ItemOutcome } from './source.ts';
import { stream } from './stream.ts';

interface Msg {
  id: string;
  key: string;
  fail?: boolean;
}

function fakeSource(items: Msg[]) {
  const settled: [string, ItemOutcome['status'], string?][] = [];
  let closed = 0;
  const src: AckSource<Msg> = {
    kind: 'ack-source',
    name: 'fake',
    async *items() {
      for (const m of items) yield m;
    },
    keyOf: (m) => m.key,
    idempotencyKeyOf: (m) => `fake:${m.id}`,
    settle: (m, outcome) => {
      settled.push(outcome.status === 'ok' ? [m.id, 'ok'] : [m.id, 'failed', outcome.error.message]);
    },
    close: async () => {
      closed++;
    },
  };
  return { src, settled, closed: () => closed };
}

describe('stream(ackSource)', () => {
  it('settles each item once with its outcome, after its retries, in per-key order, then closes the source', async () => {
    const { src, settled, closed } = fakeSource([
      { id: '1', key: 'a' },
      { id: '2', key: 'a', fail: true },
      { id: '3', key: 'a' },
      { id: '4', key: 'b' },
    ]);
    const keys: string[] = [];
    const attempts: string[] = [];
    const { report } = await stream(src)
      .concurrent({ maxWorkers: 2, retry: { attempts: 2, backoff: 0 } })
      .process((m, ctx) => {
        attempts.push(`${m.id}@${ctx.attempt}`);
        keys.push(ctx.idempotencyKey);
        if (m.fail) throw new Error(`no ${m.id}`);
      })
      .collect();
    expect(report).toMatchObject({ total: 4, ok: 3, failed: 1 });
    expect(attempts.filter((a) => a.startsWith('2'))).toEqual(['2@1', '2@2']);
    const aOrder = settled.filter(([id]) => ['1', '2', '3'].includes(id));
    expect(aOrder).toEqual([
      ['1', 'ok'],
      ['2', 'failed', 'no 2'],
      ['3', 'ok'],
    ]);
    expect(settled).toHaveLength(4);
    expect(new Set(keys)).toEqual(new Set(['fake:1', 'fake:2', 'fake:3', 'fake:4']));
    expect(closed()).toBe(1);
  });

  it('does not settle items cancelled by a stop, and still closes the source', async () => {
    const { src, settled, closed } = fakeSource([
      { id: '1', key: 'a' },
      { id: '2', key: 'a' },
    ]);
    const ctrl = new AbortController();
    const run = stream(src)
      .concurrent({ maxWorkers: 1 })
      .process(
        (m, ctx) =>
          new Promise((resolve, reject) => {
            if (m.id === '1') {
              ctrl.abort();
              resolve(undefined);
            } else ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      )
      .run({ signal: ctrl.signal, drainTimeout: 10 });
    await run;
    expect(settled).toEqual([['1', 'ok']]);
    expect(closed()).toBe(1);
  });
});
