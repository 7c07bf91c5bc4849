// Starts `node bin/sluice.js runner` (or `supervisor`) as a real process with an ops port, and reads its /metrics and /readyz.
import { type ChildProcess, spawn } from 'node:child_process';
import { bin } from './builtCli.ts';

/** A runner process started by {@link startRunnerProcess}. */
export interface RunnerProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Base URL of its ops server (metrics and health on one port). */
  readonly url: string;
  output(): string;
  /** Resolves with the exit code (or the signal) once it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** One sample of a metric from /metrics, matched by name and a label substring; undefined when absent. */
  metric(name: string, labels?: string): Promise<number | undefined>;
  readyz(): Promise<{ status: number; body: { status: string; reason: string; owned: number[] } }>;
}

/** Polls `check` every 50 ms until it is true (rejects after `timeoutMs`, naming `what`). */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a runner (or a supervisor node) on one ops port chosen by the OS; resolves once the port is known. */
export async function startRunnerProcess(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  command: 'runner' | 'supervisor' = 'runner',
): Promise<RunnerProcess> {
  const proc = spawn(process.execPath, [bin, command, ...args, '--metrics-port', '0', '--health-port', '0'], {
    cwd,
    env: { ...process.env, ...env },
  });
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  await until(
    `the ops server of ${args.join(' ')} (output: ${out})`,
    () => done || /ops server on http/.test(out),
    60_000,
  );
  const url = /ops server on (http:\/\/[^\s]+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`runner exited before serving: ${out}`);
  return {
    proc,
    pid: proc.pid!,
    url,
    output: () => out,
    exited,
    async metric(name, labels = '') {
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
        if (m?.[1] === name && (m[2] ?? '').includes(labels)) return Number(m[3]);
      }
      return undefined;
    },
    async readyz() {
      const res = await fetch(`${url}/readyz`);
      return {
        status: res.status,
        body: (await res.json()) as { status: string; reason: string; owned: number[] },
      };
    },
  };
}
