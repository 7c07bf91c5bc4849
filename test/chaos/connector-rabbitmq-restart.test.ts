// Chaos on RabbitMQ: the broker restarts while a consumer process is consuming (runs serially: it restarts the broker).
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteQueue } from '../../src/connectors/rabbitmq/testHarness.ts';
import { dir, KEYS, PER_KEY, rabbitEnv, setupRabbit, TOTAL } from './brokerWorkloads.ts';
import { checkEffects, effectCount, startConsumer, waitFor } from './connectorFixture.ts';

const run = promisify(execFile);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RabbitMQ connector under a broker restart', () => {
  it('the broker restarts while consuming: the source reconnects and nothing is lost', async () => {
    const { queue, effects } = await setupRabbit();
    try {
      const consumer = startConsumer({ ...rabbitEnv(queue, effects), DELAY_MS: '40' });
      await waitFor(() => effectCount(effects) >= 200, 'effects before the restart', 60_000);
      await run('rabbitmqctl', ['stop_app']);
      const during = effectCount(effects);
      await run('rabbitmqctl', ['start_app']);
      await run('rabbitmqctl', ['await_startup']);
      const done = await consumer.exited;
      expect(done.code, done.out).toBe(0);
      expect(during).toBeLessThan(TOTAL);
      checkEffects(effects, KEYS, PER_KEY);
      const last = JSON.parse(done.out.trim().split('\n').pop() ?? '{}') as {
        stats?: { reconnects: number };
      };
      expect(last.stats?.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await run('rabbitmqctl', ['await_startup']).catch(() => {});
      await deleteQueue(queue);
    }
  }, 240_000);
});
