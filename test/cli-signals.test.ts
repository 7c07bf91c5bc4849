// The process a user starts (`node bin/sluice.js runner`, `npx sluice runner`) is the one that
// stops on SIGKILL/SIGTERM: no orphaned runner keeps renewing its leases.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../src/backend/sqlite/index.ts';
import { bin, ensureBuilt, makeProject, runShell } from './support/builtCli.ts';

let project: string;
const started: number[] = [];

const RUNNER = `import { writeFileSync } from 'node:fs';
import { defineRunner } from 'sluice';

export default defineRunner({
  group: 'billing',
  topic: 'payments',
  partitions: 4,
  heartbeat: '200ms',
  failureTimeout: '1s',
  handler: async () => {},
  setup: (_runner, { nodeName }) => {
    writeFileSync(process.env.PID_FILE as string, String(process.pid));
    process.stdout.write(\`setup \${nodeName}\\n\`);
  },
});
`;

beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-cli-signals-'));
  makeProject(project, { type: 'module' });
  writeFileSync(join(project, 'runner.ts'), RUNNER);
}, 180_000);
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(project, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a runner with `command`, waits until it holds partitions; returns the launcher and the runner's PID. */
async function startRunner(
  name: string,
  command: string,
  args: string[],
): Promise<{ launcher: ChildProcess; pid: number }> {
  const pidFile = join(project, `${name}.pid`);
  const launcher = spawn(
    command,
    [...args, 'runner', 'runner.ts', '--backend', `sqlite:${join(project, `${name}.db`)}`, '--node', name],
    { cwd: project, env: { ...process.env, PID_FILE: pidFile } },
  );
  if (launcher.pid !== undefined) started.push(launcher.pid);
  let out = '';
  launcher.stdout?.on('data', (d) => {
    out += d;
  });
  launcher.stderr?.on('data', (d) => {
    out += d;
  });
  await until(
    `${name} to acquire a partition (output: ${out})`,
    () => out.includes(`${name}: acquired`),
    60_000,
  );
  const pid = Number(readFileSync(pidFile, 'utf8'));
  started.push(pid);
  return { launcher, pid };
}

describe('signals reach the runner', () => {
  it('kill -9 of the PID of `node bin/sluice.js runner` is the runner itself', async () => {
    const { launcher, pid } = await startRunner('direct', process.execPath, [bin]);
    expect(pid).toBe(launcher.pid);
    launcher.kill('SIGKILL');
    await until('the runner to be gone', () => !alive(pid));
  });

  it('kill -9 of the PID of `npx sluice runner` stops the runner npm started', async () => {
    const { launcher, pid } = await startRunner('npx-kill', 'npx', ['sluice']);
    expect(pid).not.toBe(launcher.pid);
    launcher.kill('SIGKILL');
    await until('the runner started by npx to stop', () => !alive(pid));
  });

  it('SIGTERM to `npx sluice runner` stops the runner gracefully', async () => {
    const { launcher, pid } = await startRunner('npx-term', 'npx', ['sluice']);
    const exited = new Promise<number | null>((r) => launcher.on('exit', (code) => r(code)));
    launcher.kill('SIGTERM');
    await until('the runner started by npx to stop', () => !alive(pid));
    await exited;
    expect(existsSync(join(project, 'npx-term.db'))).toBe(true);
  });

  it('output piped to a reader that leaves (| head -1): no EPIPE stack, exit 141', async () => {
    const db = join(project, 'dlq.db');
    const backend = createSqliteBackend({ path: db });
    for (let i = 0; i < 1000; i++) {
      await backend.dlq.put({
        id: `e${i}`,
        source: 'shipping',
        topic: 'orders',
        partition: 0,
        offset: i,
        payload: { i, note: 'x'.repeat(100) },
        error: { name: 'Error', message: `boom ${i}` },
        attempts: 1,
      });
    }
    await backend.close();
    const r = await runShell(`node ${bin} dlq ls -b sqlite:${db} -n 1000 | head -1`, project);
    expect(r.stdout).toMatch(/^┌/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
  });
});
