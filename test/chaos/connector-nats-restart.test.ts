// Chaos on NATS JetStream: the broker restarts while a consumer process is consuming (runs serially: it restarts the broker).
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteStreams } from '../../src/connectors/nats/testHarness.ts';
import {
  dir,
  KEYS,
  natsEnv,
  natsServerUp,
  PER_KEY,
  setupNats,
  startNatsServer,
  TOTAL,
} from './brokerWorkloads.ts';
import { checkEffects, effectCount, startConsumer, waitFor } from './connectorFixture.ts';

const run = promisify(execFile);

async function stopServer(): Promise<void> {
  const { stdout } = await run('pgrep', ['-x', 'nats-server']);
  const pids = stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  await waitFor(async () => !(await natsServerUp()), 'nats-server to stop', 10_000);
}

afterAll(async () => {
  await startNatsServer();
  rmSync(dir, { recursive: true, force: true });
});

describe('NATS JetStream connector under a broker restart', () => {
  it('the server is killed and restarted while consuming: the source reconnects and nothing is lost', async () => {
    const { stream, effects } = await setupNats();
    try {
      const consumer = startConsumer({ ...natsEnv(stream, effects), DELAY_MS: '40' });
      await waitFor(() => effectCount(effects) >= 200, 'effects before the restart', 60_000);
      await stopServer();
      const during = effectCount(effects);
      await new Promise((r) => setTimeout(r, 1000));
      await startNatsServer();
      const done = await consumer.exited;
      expect(done.code, done.out).toBe(0);
      expect(during).toBeLessThan(TOTAL);
      checkEffects(effects, KEYS, PER_KEY);
      const last = JSON.parse(done.out.trim().split('\n').pop() ?? '{}') as {
        stats?: { reconnects: number };
      };
      expect(last.stats?.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await startNatsServer();
      await deleteStreams(stream, `${stream}_DLQ`);
    }
  }, 240_000);
});
