// Stops the CLI when the npm/npx process that launched it is killed (even with SIGKILL).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** How often the launcher's processes are checked. */
const CHECK_EVERY_MS = 500;
/** Ancestors looked at, at most: `npm exec` → `sh -c` → node. */
const MAX_DEPTH = 4;

/** Parent PID and command line of `pid`, from /proc (Linux) or `ps`; undefined when unknown. */
function processInfo(pid: number): { ppid: number; command: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return { ppid, command };
  } catch {
    try {
      const out = execFileSync('ps', ['-o', 'ppid=,command=', '-p', String(pid)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      const m = /^(\d+)\s+(.*)$/.exec(out);
      return m ? { ppid: Number(m[1]), command: m[2] ?? '' } : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * The PIDs between this process and the npm process that launched it (`npx sluice ...`,
 * `npm exec`, `npm run`), npm's included; empty when npm did not launch it.
 */
export function npmLauncherPids(env: NodeJS.ProcessEnv = process.env): number[] {
  if (env.npm_lifecycle_event === undefined && env.npm_command === undefined) return [];
  const chain: number[] = [];
  let pid = process.ppid;
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    const info = processInfo(pid);
    if (info === undefined) return [];
    chain.push(pid);
    if (/(^|[\s/])(npm|npx)(\s|$)|npm-cli\.js|npx-cli\.js/.test(info.command)) return chain;
    pid = info.ppid;
  }
  return [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When npm launched this process, watches npm (and the `sh -c` between): once one of them is
 * gone — killed with SIGKILL, which npm cannot forward — this process gets SIGTERM, so a runner
 * stops (gracefully, releasing its leases) instead of living on orphaned. A process started
 * directly (`node bin/sluice.js`, the bin on PATH) is not watched: it is the process the shell's
 * `$!` names and receives signals itself. The timer does not keep the process alive.
 */
export function stopWhenLauncherDies(): void {
  const pids = npmLauncherPids();
  if (pids.length === 0) return;
  const timer = setInterval(() => {
    if (pids.every(alive)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, CHECK_EVERY_MS);
  timer.unref();
}
