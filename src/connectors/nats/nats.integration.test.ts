// NATS JetStream connector on a real server: the connector conformance suite and the JetStream specifics.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stream } from '../../pipeline/stream.ts';
import { runConnectorConformance } from '../conformance/index.ts';
import { natsSink } from './NatsSink.ts';
import { natsSource } from './NatsSource.ts';
import { createStream, deleteStreams, NATS_URL, natsHarness, readStream } from './testHarness.ts';

runConnectorConformance('nats', natsHarness);

describe('sluice/nats specifics', () => {
  it('keeps per-key order across subjects and dead-letters with the stream position in headers', async () => {
    const id = randomUUID().slice(0, 8);
    const name = `SPEC_${id}`;
    await createStream(name, [`spec.${id}.>`]);
    const sink = natsSink<{ customer: string; step: number }>({ servers: NATS_URL });
    try {
      const msgs = [];
      for (let step = 0; step < 20; step++) {
        for (const customer of ['c1', 'c2', 'c3']) {
          msgs.push({
            subject: `spec.${id}.${step % 2 === 0 ? 'created' : 'paid'}`,
            payload: { customer, step },
          });
        }
      }
      await sink.publish(msgs);
      const source = natsSource<{ customer: string; step: number }>({
        servers: NATS_URL,
        stream: name,
        consumer: 'spec',
        key: (p) => p.customer,
        ackWait: 2000,
      });
      const order = new Map<string, number[]>();
      let count = 0;
      const ctrl = new AbortController();
      const run = stream(source)
        .concurrent({ maxWorkers: 3, retry: { attempts: 2, backoff: 1 } })
        .process(async (m) => {
          if (m.payload.customer === 'c2' && m.payload.step === 5) throw new Error('c2 step 5 rejected');
          const list = order.get(m.payload.customer) ?? [];
          list.push(m.payload.step);
          order.set(m.payload.customer, list);
          await new Promise((r) => setTimeout(r, m.payload.step % 3));
          if (++count === 59) ctrl.abort();
        })
        .start({ signal: ctrl.signal });
      await run.done;
      const all = Array.from({ length: 20 }, (_, i) => i);
      expect(order.get('c1')).toEqual(all);
      expect(order.get('c3')).toEqual(all);
      expect(order.get('c2')).toEqual(all.filter((s) => s !== 5));
      const dead = await readStream(`${name}_DLQ`);
      expect(dead.map((d) => d.body)).toEqual([{ customer: 'c2', step: 5 }]);
      expect(dead[0]!.headers['Sluice-Stream']).toBe(name);
      expect(dead[0]!.headers['Sluice-Subject']).toBe(`spec.${id}.paid`);
      expect(dead[0]!.headers['Sluice-Error']).toBe('c2 step 5 rejected');
      expect(Number(dead[0]!.headers['Sluice-Seq'])).toBe(5 * 3 + 2);
    } finally {
      await sink.close();
      await deleteStreams(name, `${name}_DLQ`);
    }
  });

  it('sink: publish acks carry the stream sequence and a repeated Nats-Msg-Id is stored once', async () => {
    const id = randomUUID().slice(0, 8);
    const name = `SINK_${id}`;
    await createStream(name, [`sink.${id}`]);
    const sink = natsSink({ servers: NATS_URL, subject: `sink.${id}`, expectStream: name });
    try {
      const first = await sink.publish([
        { id: 'order-1', payload: { a: 1 } },
        { id: 'order-2', payload: { a: 2 } },
      ]);
      const again = await sink.publish([{ id: 'order-1', payload: { a: 1 } }]);
      expect(first.map((r) => [r.id, r.duplicate, r.seq])).toEqual([
        ['order-1', false, 1],
        ['order-2', false, 2],
      ]);
      expect(again).toEqual([{ id: 'order-1', duplicate: true, seq: 1 }]);
      expect((await readStream(name)).map((m) => m.body)).toEqual([{ a: 1 }, { a: 2 }]);
      const wrong = natsSink({ servers: NATS_URL, subject: `sink.${id}`, expectStream: 'OTHER' });
      await expect(wrong.publish([{ payload: 1 }])).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
      await wrong.close();
    } finally {
      await sink.close();
      await deleteStreams(name);
    }
  });

  it('rejects bad options with CONFIG_INVALID naming the field', () => {
    expect(() => natsSource({ servers: NATS_URL, stream: 'a.b', consumer: 'c' })).toThrow(/stream/);
    expect(() => natsSource({ servers: NATS_URL, stream: 'S', consumer: 'c', maxAckPending: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
