// NATS JetStream consumer SIGKILLed mid-stream and restarted: every effect exactly once, per-key order kept.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteStreams } from '../../src/connectors/nats/testHarness.ts';
import { dir, KEYS, natsEnv, PER_KEY, setupNats, startNatsServer, TOTAL } from './brokerWorkloads.ts';
import { checkEffects, effectCount, processCount, startConsumer, waitFor } from './connectorFixture.ts';

afterAll(async () => {
  await startNatsServer();
  rmSync(dir, { recursive: true, force: true });
});

describe('NATS JetStream connector under crashes', () => {
  it('a consumer SIGKILLed mid-stream and restarted: every effect exactly once, per-key order kept', async () => {
    const { stream, effects } = await setupNats();
    try {
      const first = startConsumer(natsEnv(stream, effects));
      await waitFor(() => effectCount(effects) >= 300, 'effects before the kill', 60_000);
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      expect(effectCount(effects)).toBeLessThan(TOTAL);
      const second = startConsumer(natsEnv(stream, effects));
      const done = await second.exited;
      expect(done.code, done.out).toBe(0);
      checkEffects(effects, KEYS, PER_KEY);
      expect(processCount(effects)).toBe(2);
    } finally {
      await deleteStreams(stream, `${stream}_DLQ`);
    }
  }, 180_000);
});
