// Runs the watermark example on the real RabbitMQ: retries, dead-lettering with x-death, the DLQ monitor, per-album order.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { rabbitSink } from 'sluice/rabbitmq';
import { describe, expect, it } from 'vitest';
import {
  type DeadJob,
  declareTopology,
  runDlqMonitor,
  runWatermarkWorker,
  topology,
  type WatermarkJob,
} from './watermark.ts';

const URL = process.env.SLUICE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function until(check: () => boolean, what: () => string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('rabbitmq-watermark example', () => {
  it('stamps every image once, in order per album, retries flaky ones and reports dead jobs', async () => {
    const prefix = `wm-${randomUUID().slice(0, 8)}`;
    const t = topology(prefix);
    const ctrl = new AbortController();
    const stamped: WatermarkJob[] = [];
    const stampedKeys = new Set<string>();
    const flaky = new Map<string, number>();
    const dead: DeadJob[] = [];
    const worker = runWatermarkWorker({
      url: URL,
      prefix,
      signal: ctrl.signal,
      stamp: async (job, key) => {
        if (job.imageId === 'a1-p2' && (flaky.get(key) ?? 0) < 2) {
          flaky.set(key, (flaky.get(key) ?? 0) + 1);
          throw new Error('image store returned 503');
        }
        if (job.imageId === 'a2-p1') throw new Error('image store returned 500');
        stampedKeys.add(key);
        stamped.push(job);
      },
    });
    const monitor = runDlqMonitor({
      url: URL,
      prefix,
      signal: ctrl.signal,
      onDeadJob: (d) => void dead.push(d),
    });
    const sink = rabbitSink<WatermarkJob>({
      url: URL,
      exchange: t.exchange,
      routingKey: 'watermark',
      setup: (channel) => declareTopology(channel, prefix),
    });
    try {
      const jobs: WatermarkJob[] = [];
      for (const album of ['a1', 'a2', 'a3']) {
        jobs.push({ albumId: album, imageId: `${album}-cover`, text: '© Sluice' });
        for (let p = 1; p <= 5; p++)
          jobs.push({ albumId: album, imageId: `${album}-p${p}`, text: '© Sluice' });
      }
      jobs.push({ albumId: 'a3', imageId: 'a3-blank', text: '' });
      await sink.publish(jobs.map((job) => ({ payload: job, key: job.albumId })));
      await until(
        () => stamped.length === 17 && dead.length === 2,
        () => `17 stamped images and 2 dead jobs (${stamped.length}, ${JSON.stringify(dead)})`,
      );

      for (const album of ['a1', 'a2', 'a3']) {
        const expected = jobs.filter((j) => j.albumId === album && j.imageId !== 'a2-p1' && j.text !== '');
        expect(stamped.filter((j) => j.albumId === album).map((j) => j.imageId)).toEqual(
          expected.map((j) => j.imageId),
        );
      }
      expect(stampedKeys.size).toBe(17);
      expect([...flaky.values()]).toEqual([2]);
      expect(dead.map((d) => [d.job.imageId, d.reason, d.count]).sort()).toEqual([
        ['a2-p1', 'rejected', 1],
        ['a3-blank', 'rejected', 1],
      ]);
    } finally {
      ctrl.abort();
      await Promise.all([worker, monitor]);
      await sink.close();
      const model = await amqp.connect(URL);
      const ch = await model.createChannel();
      await ch.deleteQueue(t.queue);
      await ch.deleteQueue(t.deadLetterQueue);
      await ch.deleteExchange(t.exchange);
      await ch.deleteExchange(t.deadLetterExchange);
      await model.close();
    }
  }, 60_000);
});
