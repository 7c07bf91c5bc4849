// `sluice runner` as real processes: /metrics and /readyz over HTTP, SIGTERM drain and handover, exit codes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../src/backend/sqlite/index.ts';
import { ensureBuilt, makeProject, runCli } from './support/builtCli.ts';
import { type RunnerProcess, startRunnerProcess, until } from './support/runnerProcess.ts';

let project: string;
const procs: RunnerProcess[] = [];

// failureTimeout 10 s: a partition whose lease is not released moves only after ~10 s, so a
// handover within a few seconds proves the drain released it.
const RUNNER = `import { defineRunner } from 'sluice';

export default defineRunner({
  group: 'billing',
  topic: 'payments',
  partitions: 8,
  heartbeat: '200ms',
  failureTimeout: process.env.FAILURE_TIMEOUT ?? '10s',
  handler: async (event) => {
    if (event.payload.hang) {
      process.stdout.write('hanging\\n');
      await new Promise(() => {}); // ignores its abort signal
    }
    if (event.payload.ms) process.stdout.write('started slow event\\n');
    await new Promise((r) => setTimeout(r, event.payload.ms ?? 0));
  },
});
`;

beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-runner-ops-'));
  makeProject(project, { type: 'module' });
  writeFileSync(join(project, 'runner.ts'), RUNNER);
}, 180_000);
afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  rmSync(project, { recursive: true, force: true });
});

async function runner(db: string, node: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const p = await startRunnerProcess(
    project,
    ['runner.ts', '--backend', `sqlite:${db}`, '--node', node, ...extra],
    env,
  );
  procs.push(p);
  return p;
}

async function append(db: string, events: { partition: number; payload: Record<string, unknown> }[]) {
  const b = createSqliteBackend({ path: db });
  await b.ensureTopic('payments', { partitions: 8 });
  await b.append('payments', events);
  await b.close();
}

const owned = (p: RunnerProcess, node: string) =>
  p.metric('sluice_runner_owned_partitions', `node="${node}"`);

describe('sluice runner ops ports and drain (real processes)', () => {
  it('two runners: /readyz turns ready with the share; SIGTERM drains, hands over at once, exit 0', {
    timeout: 90_000,
  }, async () => {
    const db = join(project, 'handover.db');
    const a = await runner(db, 'a');
    const b = await runner(db, 'b');
    await until('both ready with 4 partitions each', async () => {
      const [ra, rb] = [await a.readyz(), await b.readyz()];
      return (
        ra.status === 200 && rb.status === 200 && ra.body.owned.length === 4 && rb.body.owned.length === 4
      );
    });
    expect((await a.readyz()).body.reason).toBe('holds its 4 assigned partitions');
    const live = await fetch(`${a.url}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'alive' });
    expect(await owned(a, 'a')).toBe(4);
    expect(await a.metric('sluice_lease_renew_seconds_count', 'node="a"')).toBeGreaterThan(0);
    expect(await a.metric('sluice_runner_up', 'node="a"')).toBe(1);
    expect(await a.metric('process_resident_memory_bytes')).toBeGreaterThan(0);

    // Each of a's partitions has a 300 ms event in flight when SIGTERM comes: the drain finishes them.
    const mine = (await a.readyz()).body.owned;
    await append(
      db,
      mine.map((partition) => ({ partition, payload: { ms: 300 } })),
    );
    await until(
      'a to start its 4 slow events',
      () => a.output().split('started slow event').length - 1 === 4,
    );
    const t0 = performance.now();
    a.proc.kill('SIGTERM');
    await until('b to own all 8 partitions', async () => (await owned(b, 'b')) === 8, 20_000);
    const handoverMs = performance.now() - t0;
    const exit = await a.exited;
    expect(exit, a.output()).toEqual({ code: 0, signal: null });
    expect(a.output()).toMatch(/SIGTERM: draining/);
    expect(a.output()).toMatch(/stopped: drained in \d+ ms/);
    // A released lease moves within a heartbeat or two; an expired one only after failureTimeout (10 s).
    expect(handoverMs).toBeLessThan(5000);
    expect(await b.metric('sluice_runner_failovers_total', 'node="b"')).toBe(0);
    const check = createSqliteBackend({ path: db });
    const committed = await check.committedMany('billing', 'payments', mine);
    await check.close();
    expect(committed).toEqual(mine.map(() => 1)); // the in-flight events were committed, not abandoned
    console.log(
      `SIGTERM handover of 4 partitions: ${Math.round(handoverMs)} ms (heartbeat 200 ms, failureTimeout 10 s)`,
    );
    b.proc.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
  });

  it('SIGKILL of one runner: the survivor counts the failover in sluice_runner_failovers_total', {
    timeout: 90_000,
  }, async () => {
    const db = join(project, 'failover.db');
    const env = { FAILURE_TIMEOUT: '1s' };
    const a = await runner(db, 'a', [], env);
    const b = await runner(db, 'b', [], env);
    await until(
      'a and b to own 4 each',
      async () => (await owned(a, 'a')) === 4 && (await owned(b, 'b')) === 4,
    );
    a.proc.kill('SIGKILL');
    await until('b to take over', async () => (await owned(b, 'b')) === 8, 20_000);
    expect(await b.metric('sluice_runner_failovers_total', 'node="b"')).toBe(4);
    expect(await b.metric('sluice_runner_rebalances_total', 'node="b"')).toBeGreaterThanOrEqual(2);
    b.proc.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
  });

  it('a handler that does not finish: exit 3 after --drain-timeout; a second SIGTERM exits 143 at once', {
    timeout: 90_000,
  }, async () => {
    const db = join(project, 'hang.db');
    await append(db, [{ partition: 0, payload: { hang: true } }]);
    const slow = await runner(db, 'slow', ['--drain-timeout', '500ms']);
    await until('the handler to hang', () => slow.output().includes('hanging'));
    slow.proc.kill('SIGTERM');
    expect(await slow.exited, slow.output()).toEqual({ code: 3, signal: null });
    expect(slow.output()).toMatch(/drain timeout/);

    const stuck = await runner(db, 'stuck', ['--drain-timeout', '60s']);
    await until('the handler to hang', () => stuck.output().includes('hanging'));
    stuck.proc.kill('SIGTERM');
    await until('the drain to start', () => stuck.output().includes('draining'));
    expect((await stuck.readyz()).body).toMatchObject({
      status: 'not_ready',
      reason: 'draining: handing partitions over',
    });
    stuck.proc.kill('SIGTERM');
    expect(await stuck.exited, stuck.output()).toEqual({ code: 143, signal: null });
  });

  it('a usage error exits 2; --help documents the exit codes', async () => {
    const usage = await runCli(['runner', 'runner.ts', '--no-such-flag'], { cwd: project });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error: unknown option '--no-such-flag'");
    const help = await runCli(['runner', '--help'], { cwd: project });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}3 {4}drain timeout/m);
    expect(help.stdout).toMatch(/^ {2}143 {2}second SIGTERM/m);
  });

  it('a bad port is refused with CONFIG_INVALID naming the flag', async () => {
    const r = await runCli(['runner', 'runner.ts', '--backend', 'memory', '--metrics-port', 'x'], {
      cwd: project,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Expected `--metrics-port` to be a port number from 0 to 65535, got "x"');
  });
});
