// `sluice supervisor` as real processes: two nodes share the children, /readyz and /metrics over HTTP, SIGTERM hands over, exit 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, makeProject } from './support/builtCli.ts';
import { type RunnerProcess, startRunnerProcess, until } from './support/runnerProcess.ts';

let project: string;
const procs: RunnerProcess[] = [];

const NODE = `import { BehaviorRegistry, childFromAsync, defineSupervisorNode, systemClock } from 'sluice';

const idle = childFromAsync(async ({ signal }) => {
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
});

export default defineSupervisorNode({
  name: 'indexers',
  heartbeat: '200ms',
  failureTimeout: '2s',
  nodeSelector: 'least_loaded',
  minNodes: 2,
  registry: new BehaviorRegistry().register('indexer', (_args, ctx) =>
    idle({ signal: ctx.signal, attempt: 1, clock: systemClock }),
  ),
  children: [1, 2, 3, 4].map((shard) => ({ id: \`shard-\${shard}\`, behavior: 'indexer', args: { shard } })),
});
`;

beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-supervisor-ops-'));
  makeProject(project, { type: 'module' });
  writeFileSync(join(project, 'indexers.ts'), NODE);
}, 180_000);
afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  rmSync(project, { recursive: true, force: true });
});

async function node(db: string, name: string): Promise<RunnerProcess> {
  const p = await startRunnerProcess(
    project,
    ['indexers.ts', '--backend', `sqlite:${db}`, '--node', name, '--quiet'],
    {},
    'supervisor',
  );
  procs.push(p);
  return p;
}

const local = (p: RunnerProcess, n: string) => p.metric('sluice_dsup_local_children', `node="${n}"`);

describe('sluice supervisor (real processes)', () => {
  it('two nodes: ready, one leader, 2 children each; SIGTERM moves the children and exits 0', {
    timeout: 90_000,
  }, async () => {
    const db = join(project, 'dsup.db');
    const a = await node(db, 'node-a');
    const b = await node(db, 'node-b');
    await until('both nodes ready with 2 children each', async () => {
      const ready = (await a.readyz()).status === 200 && (await b.readyz()).status === 200;
      return ready && (await local(a, 'node-a')) === 2 && (await local(b, 'node-b')) === 2;
    });
    const leaders =
      ((await a.metric('sluice_dsup_leader', 'node="node-a"')) ?? 0) +
      ((await b.metric('sluice_dsup_leader', 'node="node-b"')) ?? 0);
    expect(leaders).toBe(1);
    expect(await a.metric('sluice_dsup_node_children', 'node="node-b"')).toBe(2);
    expect((await a.readyz()).body.reason).toMatch(/^joined; leader node-[ab]$/);

    a.proc.kill('SIGTERM');
    expect(await a.exited, a.output()).toEqual({ code: 0, signal: null });
    expect(a.output()).toMatch(/stopped: drained in \d+ ms/);
    await until('node-b to run all 4 children', async () => (await local(b, 'node-b')) === 4, 20_000);
    expect(await b.metric('sluice_dsup_leader', 'node="node-b"')).toBe(1);
    expect(await b.metric('sluice_dsup_node_failure_restarts')).toBe(0); // a left, it did not fail
    b.proc.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
  });
});
