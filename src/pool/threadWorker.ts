// Entry module of a ThreadPool thread: loads the user module, runs one task per message, answers with the value or the error.
/**
 * Entry module of a {@link ThreadPool} thread: loads the user module, then runs one task per
 * message and answers with its value or its serialized error.
 * @packageDocumentation
 */
import { parentPort, workerData } from 'node:worker_threads';
import { configError, serializeError } from '../core/errors.ts';
import { BOOT_KEY, type TaskMessage, type ThreadBoot, type ThreadMessage } from './threadProtocol.ts';

type TaskFn = (arg: unknown) => unknown;

const port = parentPort;
if (port === null) throw new Error('threadWorker must run inside a worker thread');
const boot = (workerData as Record<string, ThreadBoot>)[BOOT_KEY] as ThreadBoot;

const send = (m: ThreadMessage) => {
  try {
    port.postMessage(m);
  } catch (e) {
    // The value could not be cloned (functions, class instances with private state, ...).
    port.postMessage({ t: 2, e: serializeError(e) } satisfies ThreadMessage);
  }
};

let fn: TaskFn | undefined;
try {
  const mod = (await import(boot.file)) as { default?: unknown };
  let f: unknown = mod.default;
  // CommonJS modules compiled from `export default` end up one level deeper.
  if (typeof f !== 'function' && typeof (f as { default?: unknown } | undefined)?.default === 'function') {
    f = (f as { default: unknown }).default;
  }
  if (typeof f !== 'function')
    throw configError('file', 'a module whose default export is a function', boot.file);
  fn = f as TaskFn;
} catch (e) {
  send({ t: 3, e: serializeError(e) });
}

if (fn !== undefined) {
  const run = fn;
  const onOk = (v: unknown) => send({ t: 1, v });
  const onErr = (e: unknown) => send({ t: 2, e: serializeError(e) });
  port.on('message', (msg: TaskMessage) => {
    let v: unknown;
    try {
      v = run(msg.a);
    } catch (e) {
      onErr(e);
      return;
    }
    if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
      (v as PromiseLike<unknown>).then(onOk, onErr);
    } else {
      onOk(v);
    }
  });
  send({ t: 0 });
}
