// The built `sluice schedules` CLI against a SQLite file: ls, pause, resume, rm, one-line errors,
// and the delayed/scheduled counts of `sluice status`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../src/backend/sqlite/index.ts';
import { createScheduler } from '../src/time/Scheduler.ts';
import { ensureBuilt, runCli } from './support/builtCli.ts';

let dir: string;
let spec: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sluice-schedules-'));
  const path = join(dir, 'sluice.db');
  spec = `sqlite:${path}`;
  const backend = createSqliteBackend({ path });
  await backend.ensureTopic('jobs', { partitions: 2 });
  const scheduler = createScheduler({ backend, pollInterval: '1h' });
  await scheduler.schedule({
    name: 'nightly',
    cron: '0 3 * * *',
    timezone: 'Europe/Berlin',
    topic: 'jobs',
    payload: {},
  });
  await scheduler.schedule({ name: 'beat', every: '30s', topic: 'jobs', payload: {}, missed: 'once' });
  await scheduler.close();
  await backend.append('jobs', [
    { payload: 1, delay: '1h' },
    { payload: 2, delay: '2h' },
  ]);
  await backend.close();
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SLOW = 180_000;

describe('sluice schedules', () => {
  it(
    'lists, pauses, resumes and removes schedules',
    async () => {
      const ls = await runCli(['schedules', 'ls', '--backend', spec]);
      expect(ls.code).toBe(0);
      expect(ls.stdout).toMatch(/│ beat +│ jobs +│ every 30000ms +│ once +│ active/);
      expect(ls.stdout).toMatch(
        /│ nightly +│ jobs +│ cron 0 3 \* \* \* \(Europe\/Berlin\) +│ skip +│ active/,
      );
      expect((await runCli(['schedules', 'pause', 'beat', '--backend', spec])).stdout).toBe(
        'Schedule beat paused.\n',
      );
      const json = JSON.parse((await runCli(['schedules', 'ls', '--json', '--backend', spec])).stdout);
      expect(json.map((r: { name: string; paused: boolean }) => [r.name, r.paused])).toEqual([
        ['beat', true],
        ['nightly', false],
      ]);
      expect((await runCli(['schedules', 'resume', 'beat', '--backend', spec])).code).toBe(0);
      expect((await runCli(['schedules', 'rm', 'nightly', '--backend', spec])).code).toBe(0);
      const after = JSON.parse((await runCli(['schedules', 'ls', '--json', '--backend', spec])).stdout);
      expect(after.map((r: { name: string; paused: boolean }) => [r.name, r.paused])).toEqual([
        ['beat', false],
      ]);
    },
    SLOW,
  );

  it(
    'fails in one line with NOT_FOUND for an unknown schedule',
    async () => {
      const r = await runCli(['schedules', 'pause', 'nope', '--backend', spec]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('NOT_FOUND');
      expect(r.stderr).toContain('nope');
    },
    SLOW,
  );

  it(
    'sluice status shows delayed and scheduled counts per topic',
    async () => {
      const r = await runCli(['status', '--backend', spec]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Delayed and scheduled/);
      expect(r.stdout).toMatch(/│ jobs +│ 2 +│ \d +│/);
      const json = JSON.parse((await runCli(['status', '--json', '--backend', spec])).stdout);
      expect(json.time).toEqual([{ topic: 'jobs', delayed: 2, schedules: expect.any(Number) }]);
    },
    SLOW,
  );
});
