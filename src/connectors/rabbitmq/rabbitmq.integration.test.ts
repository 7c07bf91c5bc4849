// RabbitMQ connector on a real broker: the connector conformance suite and the RabbitMQ specifics.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { stream } from '../../pipeline/stream.ts';
import { runConnectorConformance } from '../conformance/index.ts';
import { rabbitSink } from './RabbitSink.ts';
import { rabbitSource } from './RabbitSource.ts';
import { AMQP_URL, declareQueue, deleteQueue, drainQueue, rabbitHarness } from './testHarness.ts';

runConnectorConformance('rabbitmq', rabbitHarness);

describe('sluice/rabbitmq specifics', () => {
  it('dead-letters through the queue DLX with a true x-death record; an undecodable body too', async () => {
    const queue = `spec-${randomUUID().slice(0, 8)}`;
    await declareQueue(queue, { deliveryLimit: 5 });
    const sink = rabbitSink<{ n: number }>({ url: AMQP_URL, routingKey: queue });
    try {
      await sink.publish([
        { key: 'k', payload: { n: 1 } },
        { key: 'k', payload: { n: 2 } },
      ]);
      const model = await amqp.connect(AMQP_URL);
      const ch = await model.createConfirmChannel();
      ch.sendToQueue(queue, Buffer.from('not json'), { messageId: 'raw-1' });
      await ch.waitForConfirms();
      await model.close();
      const seen: number[] = [];
      const ctrl = new AbortController();
      const source = rabbitSource<{ n: number }>({ url: AMQP_URL, queue, key: { header: 'sluice-key' } });
      const run = stream(source)
        .concurrent({ maxWorkers: 2, retry: { attempts: 2, backoff: 1 } })
        .process((m) => {
          seen.push(m.payload.n);
          if (m.payload.n === 1) throw new Error('no');
        })
        .start({ signal: ctrl.signal });
      for (let i = 0; i < 200 && source.stats().deadLettered + source.stats().acked < 3; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      ctrl.abort();
      await run.done;
      expect(seen).toEqual([1, 1, 2]);
      expect(source.stats()).toMatchObject({ acked: 1, deadLettered: 2 });
      let dead: Awaited<ReturnType<typeof drainQueue>> = [];
      for (let i = 0; i < 100 && dead.length < 2; i++) {
        dead = dead.concat(await drainQueue(`${queue}.dlq`).catch(() => []));
        if (dead.length < 2) await new Promise((r) => setTimeout(r, 50));
      }
      expect(dead.map((d) => d.body)).toEqual(expect.arrayContaining([{ n: 1 }, 'not json']));
      const deaths = dead.map(
        (d) => (d.headers['x-death'] as { reason: string; queue: string; count: number }[])[0],
      );
      expect(deaths.map((x) => [x?.reason, x?.queue, x?.count])).toEqual([
        ['rejected', queue, 1],
        ['rejected', queue, 1],
      ]);
    } finally {
      await sink.close();
      await deleteQueue(queue);
    }
  });

  it('rejects bad options with CONFIG_INVALID naming the field', () => {
    expect(() => rabbitSource({ url: AMQP_URL, queue: '' })).toThrow(/queue/);
    expect(() => rabbitSource({ url: AMQP_URL, queue: 'q', prefetch: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
