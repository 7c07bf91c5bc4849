// The ThreadPool wire protocol: boot settings in workerData, task and answer messages, and the boot script a thread evaluates.
import type { SerializedError } from '../core/errors.ts';

/** `workerData` key under which a {@link ThreadPool} passes its boot settings to a thread. */
export const BOOT_KEY = '__sluiceThreadPool';

/** Boot settings a thread receives in `workerData[BOOT_KEY]`. */
export interface ThreadBoot {
  /** URL of the thread entry module (`threadWorker`). */
  readonly entry: string;
  /** URL of the user module whose default export runs the tasks. */
  readonly file: string;
  /** URL of `tsx/esm/api` when TypeScript modules must be loadable, else `null`. */
  readonly tsx: string | null;
}

/** Parent → thread: run one task. */
export interface TaskMessage {
  readonly a: unknown;
}

/** Thread → parent messages. `t`: 0 ready, 1 result, 2 thrown error, 3 init failure. */
export type ThreadMessage =
  | { readonly t: 0 }
  | { readonly t: 1; readonly v: unknown }
  | { readonly t: 2; readonly e: SerializedError }
  | { readonly t: 3; readonly e: SerializedError };

/**
 * Code evaluated as the thread's first script: optionally registers tsx (so `.ts` modules load),
 * then imports the entry module. Kept as a string so the pool works from sources and from the
 * compiled package alike.
 */
export const BOOT_SOURCE = `
(async () => {
  const { workerData, parentPort } = await import('node:worker_threads');
  const boot = workerData[${JSON.stringify(BOOT_KEY)}];
  try {
    if (boot.tsx) {
      const { register } = await import(boot.tsx);
      register();
    }
    await import(boot.entry);
  } catch (e) {
    parentPort.postMessage({ t: 3, e: { name: String(e && e.name || 'Error'), message: String(e && e.message || e), stack: e && e.stack } });
  }
})();
`;
