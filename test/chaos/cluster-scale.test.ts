// `sluice scale` end to end with real processes: a local fleet served by `sluice scale --serve`
// follows `sluice scale --to N` (2 → 4 → 1 runner processes) while they consume a topic; nothing
// is lost and no committed work runs again.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/cli/backendSpec.ts';
import { viewFleet } from '../../src/cli/commands/scale.ts';
import { clusterBackends } from '../fixtures/cluster/backends.ts';
import { checkHistory, fillTopic } from '../fixtures/cluster/fleet.ts';

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const fixture = join(import.meta.dirname, '..', 'fixtures', 'cluster', 'scaleRunner.ts');
const PARTITIONS = 16;
const EVENTS = 12_000;

const backends = await clusterBackends();
afterAll(() => {
  for (const b of backends) b.cleanup();
});

function sluice(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe.each(backends)('sluice scale on $name', (cb) => {
  it('a served fleet follows --to 2 → 4 → 1: 0 lost, nothing re-run, runners leave on stop', async () => {
    const id = randomUUID().slice(0, 8);
    const env = {
      ...process.env,
      EFFECTS_DB: join(cb.dir, `scale-${id}.db`),
      RUNNER_GROUP: `g-${id}`,
      RUNNER_TOPIC: `t-${id}`,
      RUNNER_DELAY_MS: '40',
    };
    const backend = await openBackend(cb.spec);
    await fillTopic(backend, env.RUNNER_TOPIC, PARTITIONS, EVENTS);
    const total = async () => {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++)
        n += await backend.committed(env.RUNNER_GROUP, env.RUNNER_TOPIC, p);
      return n;
    };
    let serve: ChildProcess | undefined;
    try {
      serve = fork(cli, ['scale', fixture, '--serve', '--to', '2', '--backend', cb.spec, '--prefix', 'w'], {
        execArgv: ['--import', 'tsx'],
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      let serveOut = '';
      serve.stdout?.on('data', (d) => (serveOut += d));
      serve.stderr?.on('data', (d) => (serveOut += d));
      const serveExit = new Promise<number | null>((r) => serve!.on('exit', (code) => r(code)));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`serve not ready: ${serveOut}`)), 90_000);
        serve!.once('message', () => {
          clearTimeout(t);
          resolve();
        });
      });

      const up = await sluice(
        ['scale', fixture, '--to', '4', '--wait', '--timeout', '90s', '--backend', cb.spec],
        env,
      );
      expect(up.code, up.out).toBe(0);
      expect(up.out).toContain('4 runners live');
      expect((await viewFleet(backend, env.RUNNER_GROUP, env.RUNNER_TOPIC, 5000)).runners.sort()).toEqual([
        'w-1',
        'w-2',
        'w-3',
        'w-4',
      ]);
      expect(await total()).toBeLessThan(EVENTS); // scaled while the topic was being consumed

      const down = await sluice(
        ['scale', fixture, '--to', '1', '--wait', '--timeout', '90s', '--backend', cb.spec],
        env,
      );
      expect(down.code, down.out).toBe(0);
      const one = await viewFleet(backend, env.RUNNER_GROUP, env.RUNNER_TOPIC, 5000);
      expect(one.runners).toEqual(['w-1']);
      expect(one.held.get('w-1')).toHaveLength(PARTITIONS);

      const status = await sluice(['scale', fixture, '--backend', cb.spec], env);
      expect(status.out).toContain('desired 1, live 1');

      const deadline = Date.now() + 120_000;
      while ((await total()) < EVENTS) {
        if (Date.now() > deadline) throw new Error('not all events were committed');
        await new Promise((r) => setTimeout(r, 100));
      }
      serve.kill('SIGTERM');
      expect(await serveExit, serveOut).toBe(0);
      expect(serveOut).toContain('2 -> 4 runners');
      expect(serveOut).toContain('4 -> 1 runners');
      expect((await viewFleet(backend, env.RUNNER_GROUP, env.RUNNER_TOPIC, 60_000)).runners).toEqual([]);

      const report = await checkHistory(
        env.EFFECTS_DB,
        backend,
        env.RUNNER_TOPIC,
        env.RUNNER_GROUP,
        PARTITIONS,
        EVENTS,
      );
      expect(report.uncommittedDeliveries).toBe(0);
      expect(report.deliveries).toBe(EVENTS);
    } finally {
      if (serve?.exitCode === null) serve.kill('SIGKILL');
      await backend.close();
    }
  }, 400_000);
});
