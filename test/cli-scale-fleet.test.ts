// `sluice scale` (built CLI, real processes): --wait fails fast with no fleet; a served fleet logs the restart of a SIGKILLed runner.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, ensureBuilt, makeProject, runCli } from './support/builtCli.ts';
import { until } from './support/runnerProcess.ts';

let project: string;
const pids: number[] = [];

const RUNNER = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineRunner } from 'sluice';

export default defineRunner({
  group: 'billing',
  topic: 'payments',
  partitions: 4,
  heartbeat: '200ms',
  failureTimeout: '1s',
  handler: async () => {},
  setup: (_runner, { nodeName }) => {
    writeFileSync(join(process.env.PID_DIR, nodeName + '.pid'), String(process.pid));
  },
});
`;

beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-scale-fleet-'));
  makeProject(project, { type: 'module' });
  writeFileSync(join(project, 'runner.ts'), RUNNER);
}, 180_000);
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(project, { recursive: true, force: true });
});

describe('sluice scale', () => {
  it('--to 3 --wait with no fleet serving the group fails at once with NO_FLEET (not after --timeout)', async () => {
    const db = join(project, 'nofleet.db');
    const t0 = performance.now();
    const r = await runCli(
      ['scale', 'runner.ts', '--to', '3', '--wait', '--timeout', '60s', '--backend', `sqlite:${db}`],
      {
        cwd: project,
        env: { PID_DIR: project },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('billing/payments: desired runners = 3');
    expect(r.stderr.split('\n')[0]).toBe(
      'sluice: NO_FLEET: no fleet serves billing/payments: the desired count 3 is recorded, but only `sluice scale <module> --serve` acts on it (0 runners live); start a fleet, or start or stop runners yourself',
    );
    expect(performance.now() - t0).toBeLessThan(30_000); // far below the 60 s --timeout
  });

  it('a served fleet: --wait succeeds, a SIGKILLed runner is restarted and the fleet logs it', {
    timeout: 120_000,
  }, async () => {
    const db = join(project, 'fleet.db');
    const serve = spawn(
      process.execPath,
      [bin, 'scale', 'runner.ts', '--serve', '--to', '2', '--prefix', 'w', '--backend', `sqlite:${db}`],
      { cwd: project, env: { ...process.env, PID_DIR: project } },
    );
    pids.push(serve.pid!);
    let out = '';
    serve.stdout.on('data', (d) => (out += d));
    serve.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => serve.on('exit', (code) => r(code)));
    await until(`the fleet to serve (output: ${out})`, () => out.includes('serving 2 runners'), 60_000);
    const wait = await runCli(['scale', 'runner.ts', '--to', '2', '--wait', '--backend', `sqlite:${db}`], {
      cwd: project,
      env: { PID_DIR: project },
    });
    expect(wait.stderr).toBe('');
    expect(wait.code).toBe(0);
    expect(wait.stdout).toContain('billing/payments: 2 runners live');

    const victim = Number(readFileSync(join(project, 'w-1.pid'), 'utf8'));
    pids.push(victim);
    process.kill(victim, 'SIGKILL');
    await until(
      `the fleet to log the restart (output: ${out})`,
      () => out.includes('restarted runner w-1'),
      30_000,
    );
    expect(out).toMatch(/billing\/payments: runner w-1 crashed \(.*SIGKILL.*\)/);
    await until('the restarted w-1 to write its new PID', () => {
      const pid = Number(readFileSync(join(project, 'w-1.pid'), 'utf8'));
      if (pid !== victim) pids.push(pid);
      return pid !== victim;
    });
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
