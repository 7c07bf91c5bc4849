// `sluice schedules ls|pause|resume|rm`: list and manage the schedules stored in a backend.
import type { Command } from 'commander';
import type { Backend, ScheduleRecord, ScheduleStore } from '../../backend/Backend.ts';
import { SluiceError } from '../../core/errors.ts';
import { tickClock } from '../../time/ticks.ts';
import { backendSpecFrom, withBackend } from '../backendSpec.ts';
import { newTable } from '../tableStyle.ts';

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function when(ms: number | null): string {
  if (ms === null) return '-';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

function store(backend: Backend): ScheduleStore {
  if (backend.schedules === undefined) {
    throw new SluiceError('CONFIG_INVALID', `The ${backend.kind} backend has no schedule store`);
  }
  return backend.schedules;
}

function every(r: ScheduleRecord): string {
  if (r.cron !== null) return `cron ${r.cron}${r.timezone !== null ? ` (${r.timezone})` : ''}`;
  return `every ${r.everyMs}ms`;
}

/** The next tick of a schedule after now (or after its last tick), for display. */
function nextTick(r: ScheduleRecord, now: number): number | null {
  if (r.paused) return null;
  return tickClock(r).next(Math.max(now, r.lastTick ?? r.createdAt));
}

function notFound(name: string): SluiceError {
  return new SluiceError('NOT_FOUND', `No schedule named ${JSON.stringify(name)}`, { context: { name } });
}

/** Registers one of pause/resume/rm: each takes a name and fails with NOT_FOUND when it is unknown. */
function action(
  parent: Command,
  name: string,
  description: string,
  run: (s: ScheduleStore, name: string) => Promise<boolean>,
  done: string,
): void {
  parent
    .command(`${name} <name>`)
    .description(description)
    .option('-b, --backend <spec>', 'backend spec')
    .action(async (schedule: string, opts: { backend?: string }) => {
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        if (!(await run(store(backend), schedule))) throw notFound(schedule);
        print(`Schedule ${schedule} ${done}.`);
      });
    });
}

/** `sluice schedules ls|pause|resume|rm`. */
export function register(program: Command): void {
  const schedules = program
    .command('schedules')
    .description(
      'List, pause, resume and remove stored schedules (backend from --backend or SLUICE_BACKEND)',
    );

  schedules
    .command('ls')
    .description('List schedules with their timing, state, last and next tick')
    .option('-b, --backend <spec>', 'memory | sqlite:<path> | postgres://... | redis://...')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        const list = await store(backend).list();
        if (opts.json) return print(JSON.stringify(list, null, 2));
        if (list.length === 0) return print('No schedules.');
        const now = Date.now();
        const table = newTable(['name', 'topic', 'when', 'missed', 'state', 'last tick', 'next tick']);
        for (const r of list) {
          table.push([
            r.name,
            r.topic,
            every(r),
            r.missed,
            r.paused ? 'paused' : 'active',
            when(r.lastTick),
            when(nextTick(r, now)),
          ]);
        }
        print(table.toString());
        print(`${list.length} schedule(s)`);
      });
    });

  action(
    schedules,
    'pause',
    'Pause a schedule (no ticks until resumed)',
    (s, n) => s.setPaused(n, true),
    'paused',
  );
  action(
    schedules,
    'resume',
    'Resume a paused schedule (ticks missed meanwhile follow its missed policy)',
    (s, n) => s.setPaused(n, false),
    'resumed',
  );
  action(schedules, 'rm', 'Remove a schedule', (s, n) => s.remove(n), 'removed');
}
