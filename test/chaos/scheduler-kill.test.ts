// Three scheduler processes on one SQLite file; the one holding the lease is SIGKILLed in the middle
// of a tick every few ticks and replaced. Every tick of the schedule is appended exactly once.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../../src/backend/sqlite/index.ts';
import type { SchedulerChildConfig } from '../fixtures/time/schedulerChild.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-scheduler-kill-'));
const path = join(dir, 'sluice.db');
const childFile = join(import.meta.dirname, '..', 'fixtures', 'time', 'schedulerChild.ts');
const children = new Map<string, ChildProcess>();

afterAll(() => {
  for (const c of children.values()) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Message = { ready?: string; tick?: number; owner?: string };

function start(owner: string, onTick: (m: Message) => void): Promise<void> {
  const cfg: SchedulerChildConfig = { path, owner };
  const c = fork(childFile, [JSON.stringify(cfg)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.set(owner, c);
  return new Promise((resolve, reject) => {
    c.on('message', (m: Message) => {
      if (m.ready !== undefined) resolve();
      if (m.tick !== undefined) onTick(m);
    });
    c.once('exit', (code, signal) => {
      if (signal === null) reject(new Error(`scheduler ${owner} exited with ${code}`));
    });
  });
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
}

describe('schedules across three scheduler processes', () => {
  it('fire every tick exactly once while the lease holder is SIGKILLed mid-tick every few ticks', async () => {
    const setup = createSqliteBackend({ path });
    await setup.ensureTopic('ticks', { partitions: 1 });
    await setup.close();
    let next = 0;
    let ticksSinceKill = 0;
    let kills = 0;
    const killing = new Set<Promise<void>>();
    const onTick = (m: Message) => {
      ticksSinceKill++;
      const c = children.get(m.owner!);
      if (ticksSinceKill < 4 || c === undefined || kills >= 5) return;
      // The holder is inside `produce` for this tick: kill it there and start a replacement.
      ticksSinceKill = 0;
      kills++;
      c.kill('SIGKILL');
      children.delete(m.owner!);
      const p = exited(c).then(() => start(`s${next++}`, onTick));
      killing.add(p);
    };
    await Promise.all([0, 1, 2].map(() => start(`s${next++}`, onTick)));
    const deadline = Date.now() + 60_000;
    while (kills < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(killing);
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all(
      [...children.values()].map((c) => {
        c.kill('SIGTERM');
        return exited(c);
      }),
    );
    children.clear();
    expect(kills).toBe(5);

    const backend = createSqliteBackend({ path });
    const events = await backend.read('ticks', 0, 0, 100_000);
    await backend.close();
    const ticks = events.map((e) => Number(e.headers?.['sluice-tick']));
    console.info(`${ticks.length} ticks over ${ticks[ticks.length - 1]! - ticks[0]!} ms with ${kills} kills`);
    // Each tick once, and none missing between the first and the last.
    expect(new Set(ticks).size).toBe(ticks.length);
    const sorted = [...ticks].sort((a, b) => a - b);
    expect(sorted).toEqual(ticks);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBe(200);
    expect(ticks.length).toBeGreaterThan(20);
    for (const e of events) expect(e.id).toBe(`sluice-schedule:beat:${e.headers?.['sluice-tick']}`);
  }, 120_000);
});
