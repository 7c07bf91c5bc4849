// Test of supervisorSource on real Supervisors: nested tree and restart counts in collectStatus, event logs.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { createLogger, logSupervisorEvents } from '../metrics/logger.ts';
import { childFromAsync } from '../supervision/childFromAsync.ts';
import { Supervisor } from '../supervision/Supervisor.ts';
import { collectStatus } from './collectStatus.ts';
import { supervisorSource } from './StatusSource.ts';

const forever = childFromAsync(
  ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
);

describe('supervisorSource with a real Supervisor', () => {
  it('shows the tree with nested supervisors and restart counts, and logs its events', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      destination: new Writable({
        write(chunk, _e, cb) {
          for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
          cb();
        },
      }),
    });
    const inner = await Supervisor.start({
      strategy: 'one_for_all',
      children: [
        { id: 'db', start: forever, restart: 'permanent' },
        { id: 'cache', start: forever, restart: 'permanent' },
      ],
    });
    let crashes = 0;
    const root = await Supervisor.start({
      strategy: 'one_for_one',
      restartIntensity: { maxRestarts: 5, withinMs: 60_000 },
      children: [
        {
          id: 'flaky',
          restart: 'permanent',
          start: childFromAsync(async ({ signal }) => {
            if (crashes++ === 0) throw new Error('first run crashes');
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
          }),
        },
        { id: 'ingest', start: forever, restart: 'permanent' },
      ],
    });
    const stopLogging = logSupervisorEvents(root, log);
    try {
      await expect.poll(() => root.whichChildren().find((c) => c.id === 'flaky')?.restarts).toBe(1);
      const source = supervisorSource('root', root, { ingest: inner });
      const status = await collectStatus(createMemoryBackend(), { sources: [source] });
      const tree = status.supervision[0];
      expect(tree).toMatchObject({
        id: 'root',
        kind: 'supervisor',
        strategy: 'one_for_one',
        status: 'running',
      });
      expect(tree?.children?.map((c) => [c.id, c.status, c.restarts])).toEqual([
        ['flaky', 'running', 1],
        ['ingest', 'running', 0],
      ]);
      expect(tree?.children?.[1]?.children?.map((c) => c.id)).toEqual(['db', 'cache']);
      await root.terminateChild('ingest');
      await root.restartChild('ingest');
      expect(lines.some((l) => l.event === 'child_stopped' && l.id === 'ingest')).toBe(true);
    } finally {
      stopLogging();
      await root.stop();
      await inner.stop();
    }
  });
});
