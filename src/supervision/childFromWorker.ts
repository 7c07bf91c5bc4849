// childFromWorker: a worker thread as a supervised child, stopped by terminate() or a stop message.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { SluiceError } from '../core/errors.ts';
import type { ChildHandle, ChildStart, ChildStartContext } from './types.ts';

/** Options of {@link childFromWorker}: Node `WorkerOptions` plus how to stop the thread. */
export interface WorkerChildOptions extends WorkerOptions {
  /**
   * How `stop` ends the thread: `'terminate'` (default) calls `worker.terminate()`; `'message'`
   * posts `stopMessage` and waits for the thread to exit by itself (then `terminate()` after the
   * child's `shutdownTimeout`).
   */
  stopMode?: 'terminate' | 'message';
  /** Message posted with `stopMode: 'message'`. Default `{ type: 'sluice:stop', reason }`. */
  stopMessage?: unknown;
}

/**
 * Makes a child out of a worker thread. The child is started once the thread is online. Exit
 * code 0 is a normal exit; an uncaught exception or a non-zero exit code is a crash
 * (`WORKER_CRASHED`, cause: the thread's error). `workerData` defaults to the child's `args`.
 *
 * @example
 * ```ts
 * const spec: ChildSpec = {
 *   id: 'resizer',
 *   start: childFromWorker(new URL('./resizer.js', import.meta.url)),
 * };
 * ```
 */
export function childFromWorker<A = unknown>(
  file: string | URL,
  options: WorkerChildOptions = {},
): ChildStart<A> {
  const { stopMode = 'terminate', stopMessage, ...workerOptions } = options;
  return (ctx: ChildStartContext<A>) =>
    new Promise<ChildHandle>((resolve, reject) => {
      const worker = new Worker(file, {
        ...workerOptions,
        ...(workerOptions.workerData === undefined && ctx.args !== undefined ? { workerData: ctx.args } : {}),
      });
      let online = false;
      let stopRequested = false;
      let lastError: unknown;
      const done = new Promise<void>((resolveDone, rejectDone) => {
        worker.once('exit', (code) => {
          if (!online) {
            reject(
              new SluiceError(
                'WORKER_CRASHED',
                `Worker ${String(file)} exited with code ${code} before it was online`,
                {
                  cause: lastError,
                  context: { file: String(file), code },
                },
              ),
            );
          }
          if (code === 0 || stopRequested) resolveDone();
          else {
            rejectDone(
              new SluiceError('WORKER_CRASHED', `Worker ${String(file)} exited with code ${code}`, {
                cause: lastError,
                context: { file: String(file), code, threadId: worker.threadId },
              }),
            );
          }
        });
      });
      done.catch(() => {});
      // Always listened to: an 'error' event without a listener would throw in this thread.
      worker.on('error', (e) => {
        lastError = e;
      });
      const threadId = worker.threadId;
      const handle: ChildHandle = {
        kind: 'worker',
        pid: threadId,
        done,
        stop(reason?: unknown) {
          stopRequested = true;
          if (stopMode === 'message') worker.postMessage(stopMessage ?? { type: 'sluice:stop', reason });
          else void worker.terminate();
          return done;
        },
        async kill() {
          stopRequested = true;
          await worker.terminate();
        },
      };
      worker.once('online', () => {
        online = true;
        resolve(handle);
      });
      const onAbort = () => {
        if (!online) void handle.kill?.();
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
}
