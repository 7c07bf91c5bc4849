// RabbitMQ consumer SIGKILLed mid-stream and restarted: every effect exactly once, per-key order kept.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteQueue } from '../../src/connectors/rabbitmq/testHarness.ts';
import { dir, KEYS, PER_KEY, rabbitEnv, setupRabbit, TOTAL } from './brokerWorkloads.ts';
import { checkEffects, effectCount, processCount, startConsumer, waitFor } from './connectorFixture.ts';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RabbitMQ connector under crashes', () => {
  it('a consumer SIGKILLed mid-stream and restarted: every effect exactly once, per-key order kept', async () => {
    const { queue, effects } = await setupRabbit();
    try {
      const first = startConsumer(rabbitEnv(queue, effects));
      await waitFor(() => effectCount(effects) >= 300, 'effects before the kill', 60_000);
      first.child.kill('SIGKILL');
      const killed = await first.exited;
      expect(killed.signal).toBe('SIGKILL');
      expect(effectCount(effects)).toBeLessThan(TOTAL);
      const second = startConsumer(rabbitEnv(queue, effects));
      const done = await second.exited;
      expect(done.code, done.out).toBe(0);
      checkEffects(effects, KEYS, PER_KEY);
      expect(processCount(effects)).toBe(2);
    } finally {
      await deleteQueue(queue);
    }
  }, 180_000);
});
