// Supervisor with real processes and worker threads: SIGKILL restarts, exit codes, SIGTERM then SIGKILL, crashing workers.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { childFromProcess } from '../../src/supervision/childFromProcess.ts';
import { childFromWorker } from '../../src/supervision/childFromWorker.ts';
import { Supervisor } from '../../src/supervision/Supervisor.ts';
import type { SupervisorEvents } from '../../src/supervision/types.ts';
import { failOnUnhandledRejections } from '../fixtures/supervision/harness.ts';

failOnUnhandledRejections();

const sleeper = fileURLToPath(new URL('../fixtures/supervision/sleeper.mjs', import.meta.url));
const flakyWorker = new URL('../fixtures/supervision/flaky-worker.mjs', import.meta.url);
const gracefulWorker = new URL('../fixtures/supervision/graceful-worker.mjs', import.meta.url);
const node = process.execPath;

const started: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function next<E extends keyof SupervisorEvents>(sup: Supervisor, event: E): Promise<SupervisorEvents[E][0]> {
  return new Promise((resolve) => {
    const off = sup.on(event, ((payload: SupervisorEvents[E][0]) => {
      off();
      resolve(payload);
    }) as never);
  });
}

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('real child processes', () => {
  it('a SIGKILLed process is a crash and is restarted with a new pid', async () => {
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      restartIntensity: { maxRestarts: 3, withinMs: 10_000 },
      children: [{ id: 'proc', start: childFromProcess(node, [sleeper], { stdio: 'ignore' }) }],
    });
    started.push(sup);
    const [before] = sup.whichChildren();
    expect(before).toMatchObject({ id: 'proc', status: 'running', kind: 'process' });
    const pid1 = before!.pid!;
    expect(alive(pid1)).toBe(true);

    const crashed = next(sup, 'child_crashed');
    const restarted = next(sup, 'child_restarted');
    process.kill(pid1, 'SIGKILL');
    const crash = await crashed;
    expect(crash.error).toMatchObject({ code: 'CHILD_FAILED', context: { signal: 'SIGKILL', pid: pid1 } });
    await restarted;
    const [after] = sup.whichChildren();
    expect(after).toMatchObject({ status: 'running', restarts: 1 });
    expect(after!.pid).not.toBe(pid1);
    expect(alive(after!.pid!)).toBe(true);

    await sup.stop();
    await waitUntil(() => !alive(after!.pid!), 'the process to end');
  });

  it('a transient process exiting with code 0 is not restarted; a non-zero code is', async () => {
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      restartIntensity: { maxRestarts: 1, withinMs: 60_000 },
      children: [
        {
          id: 'ok',
          restart: 'transient',
          start: childFromProcess(node, [sleeper, '--exit-now'], { stdio: 'ignore' }),
        },
      ],
    });
    started.push(sup);
    await next(sup, 'child_stopped');
    await sup.idle();
    expect(sup.whichChildren()).toMatchObject([{ id: 'ok', status: 'terminated', restarts: 0 }]);

    const failing = next(sup, 'max_restarts_exceeded');
    await sup.startChild({
      id: 'bad',
      restart: 'transient',
      start: childFromProcess(node, [sleeper, '--exit-now'], {
        stdio: 'ignore',
        env: { ...process.env, EXIT_CODE: '3' },
      }),
    });
    const e = await failing;
    expect(e.error.cause).toMatchObject({ context: { code: 3 } });
    await expect(sup.done).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
  });

  it('stop sends SIGTERM, and SIGKILL after shutdownTimeout when the process ignores it', async () => {
    const events: string[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      listeners: { child_stopped: (e) => events.push(`${e.id}:${e.forced ? 'forced' : 'clean'}`) },
      children: [
        { id: 'polite', start: childFromProcess(node, [sleeper], { stdio: 'ignore', readyOn: 'message' }) },
        {
          id: 'stubborn',
          shutdownTimeout: '300ms',
          start: childFromProcess(node, [sleeper, '--ignore-term'], { stdio: 'ignore', readyOn: 'message' }),
        },
      ],
    });
    const pids = sup.whichChildren().map((c) => c.pid!);
    await sup.stop();
    expect(events).toEqual(['stubborn:forced', 'polite:clean']);
    await waitUntil(() => pids.every((p) => !alive(p)), 'both processes to end');
  });
});

describe('real worker threads', () => {
  it('a worker thread that throws is restarted', async () => {
    const counter = new SharedArrayBuffer(4);
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      restartIntensity: { maxRestarts: 3, withinMs: 10_000 },
      children: [
        { id: 'thread', start: childFromWorker(flakyWorker, { workerData: { counter, crashes: 1 } }) },
      ],
    });
    started.push(sup);
    const [first] = sup.whichChildren();
    expect(first).toMatchObject({ kind: 'worker', status: 'running' });

    const crash = await next(sup, 'child_crashed');
    expect(crash.error).toMatchObject({ code: 'WORKER_CRASHED' });
    expect(((crash.error as Error).cause as Error).message).toBe('worker incarnation 1 failed');
    await next(sup, 'child_restarted');
    const [second] = sup.whichChildren();
    expect(second).toMatchObject({ status: 'running', restarts: 1 });
    expect(second!.pid).not.toBe(first!.pid);
    await waitUntil(() => Atomics.load(new Int32Array(counter), 0) === 2, 'the second incarnation to run');
    await sup.stop();
    expect(sup.whichChildren()[0]?.status).toBe('terminated');
  });

  it('a worker that keeps crashing exhausts the intensity; the failure is not an unhandled rejection', async () => {
    const counter = new SharedArrayBuffer(4);
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      restartIntensity: { maxRestarts: 2, withinMs: 60_000 },
      children: [
        { id: 'thread', start: childFromWorker(flakyWorker, { workerData: { counter, crashes: 100 } }) },
      ],
    });
    const failed = await next(sup, 'max_restarts_exceeded');
    expect(failed.error.code).toBe('MAX_RESTARTS_EXCEEDED');
    await expect(sup.done).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
    expect(sup.state).toBe('failed');
    expect(Atomics.load(new Int32Array(counter), 0)).toBe(3);
  });

  it("stopMode 'message' lets the thread finish by itself", async () => {
    const flag = new SharedArrayBuffer(4);
    const stops: string[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      listeners: { child_stopped: (e) => stops.push(`${e.id}:${e.reason}:${e.forced ? 'forced' : 'clean'}`) },
      children: [
        {
          id: 'graceful',
          shutdownTimeout: '10s',
          start: childFromWorker(gracefulWorker, { workerData: { flag }, stopMode: 'message' }),
        },
      ],
    });
    await sup.stop();
    expect(stops).toEqual(['graceful:shutdown:clean']);
    expect(Atomics.load(new Int32Array(flag), 0)).toBe(1);
  });
});
