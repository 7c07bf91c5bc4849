// childFromProcess: an OS process as a supervised child, started on spawn or first IPC message, stopped by signal then SIGKILL.
import { type SpawnOptions, spawn } from 'node:child_process';
import { configError, SluiceError } from '../core/errors.ts';
import type { ChildHandle, ChildStart, ChildStartContext } from './types.ts';

/** Options of {@link childFromProcess}: Node `SpawnOptions` plus the stop signal. */
export interface ProcessChildOptions extends Omit<SpawnOptions, 'signal'> {
  /** Signal sent by `stop`. Default `'SIGTERM'`; `SIGKILL` follows after the `shutdownTimeout`. */
  stopSignal?: NodeJS.Signals;
  /**
   * When the child counts as started: `'spawn'` (default) as soon as the OS process exists, or
   * `'message'` once it sends its first IPC message (`process.send('ready')`), so that it has
   * installed its signal handlers. With `'message'` an IPC channel is added to `stdio`.
   */
  readyOn?: 'spawn' | 'message';
}

function withIpc(stdio: SpawnOptions['stdio']): SpawnOptions['stdio'] {
  if (stdio === undefined || typeof stdio === 'string') {
    const s = stdio ?? 'inherit';
    return [s, s, s, 'ipc'];
  }
  if (stdio.includes('ipc')) return stdio;
  throw configError('stdio', "an array containing 'ipc' when readyOn is 'message'", stdio);
}

/**
 * Makes a child out of an OS process. The child is started once the process has spawned. Exit
 * code 0 is a normal exit; any other code, or death by a signal (e.g. `SIGKILL` from outside), is a
 * crash (`CHILD_FAILED` with `code`/`signal` in its context). When `args` of a dynamic child is an
 * array of strings, it is appended to the command line. `stdio` defaults to `'inherit'`.
 *
 * @example
 * ```ts
 * const spec: ChildSpec = {
 *   id: 'exporter',
 *   shutdownTimeout: '10s',
 *   start: childFromProcess('node', ['exporter.js'], { env: { ...process.env, PORT: '9100' } }),
 * };
 * ```
 */
export function childFromProcess<A = unknown>(
  command: string,
  args: readonly string[] = [],
  options: ProcessChildOptions = {},
): ChildStart<A> {
  const { stopSignal = 'SIGTERM', readyOn = 'spawn', ...spawnOptions } = options;
  if (readyOn === 'message') spawnOptions.stdio = withIpc(spawnOptions.stdio);
  return (ctx: ChildStartContext<A>) =>
    new Promise<ChildHandle>((resolve, reject) => {
      const extra = Array.isArray(ctx.args) && ctx.args.every((a) => typeof a === 'string') ? ctx.args : [];
      const proc = spawn(command, [...args, ...extra], { stdio: 'inherit', ...spawnOptions });
      let spawned = false;
      let stopRequested = false;
      const done = new Promise<void>((resolveDone, rejectDone) => {
        proc.once('exit', (code, signal) => {
          if (code === 0 || stopRequested) {
            resolveDone();
            return;
          }
          const how = signal === null ? `with code ${code}` : `by signal ${signal}`;
          rejectDone(
            new SluiceError('CHILD_FAILED', `Process "${command}" (pid ${proc.pid}) exited ${how}`, {
              context: { command, pid: proc.pid, code, signal },
            }),
          );
        });
      });
      done.catch(() => {});
      proc.on('error', (e) => {
        if (!spawned) {
          reject(
            new SluiceError('CHILD_FAILED', `Process "${command}" could not be started: ${e.message}`, {
              cause: e,
              context: { command },
            }),
          );
        }
      });
      const ready = () => {
        spawned = true;
        const handle: ChildHandle = {
          kind: 'process',
          pid: proc.pid,
          done,
          stop() {
            stopRequested = true;
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(stopSignal);
            return done;
          },
          kill() {
            stopRequested = true;
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
          },
        };
        resolve(handle);
      };
      if (readyOn === 'message') {
        proc.once('message', ready);
        proc.once('exit', (code, signal) => {
          if (spawned) return;
          spawned = true;
          reject(
            new SluiceError(
              'CHILD_FAILED',
              `Process "${command}" exited before it was ready (code ${code}, signal ${signal})`,
              {
                context: { command, code, signal },
              },
            ),
          );
        });
      } else {
        proc.once('spawn', ready);
      }
      const onAbort = () => {
        if (!spawned) proc.kill('SIGKILL');
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
}
