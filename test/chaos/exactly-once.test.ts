// A pipeline process over 100k events SIGKILLed mid-run and restarted: no event lost, no effect duplicated.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../../src/backend/sqlite/index.ts';

const EVENTS = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'sluice-eo-'));
const backendPath = join(dir, 'sluice.db');
const effectsPath = join(dir, 'effects.db');
const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const fixture = join(import.meta.dirname, '..', 'fixtures', 'pipelines', 'effects.ts');

function runPipeline(): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null; out: string }>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'run', fixture, '--backend', `sqlite:${backendPath}`],
    {
      env: { ...process.env, EFFECTS_DB: effectsPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, exited };
}

function effectCount(): number {
  try {
    const db = new Database(effectsPath, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS c FROM effects').get() as { c: number }).c;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
}

/** Effects whose event is neither below its partition's committed offset nor marked processed. */
function uncoveredEffects(): number {
  const backendDb = new Database(backendPath, { readonly: true });
  const effectsDb = new Database(effectsPath, { readonly: true });
  try {
    const committed = new Map<number, number>();
    const rows = backendDb
      .prepare(
        "SELECT partition_index AS p, committed_offset AS o FROM sluice_offsets WHERE grp = 'effects' AND topic = 'events'",
      )
      .all() as Array<{ p: number; o: number }>;
    for (const r of rows) committed.set(r.p, r.o);
    const markers = new Set(
      backendDb.prepare("SELECT key FROM sluice_processed WHERE grp = 'effects'").pluck().all() as string[],
    );
    let n = 0;
    for (const idem of effectsDb.prepare('SELECT idem FROM effects').pluck().all() as string[]) {
      const [, , p, offset] = idem.split(':'); // effects:events:<partition>:<offset>
      if (Number(offset) >= (committed.get(Number(p)) ?? 0) && !markers.has(idem)) n++;
    }
    return n;
  } finally {
    backendDb.close();
    effectsDb.close();
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exactly-once effects across a SIGKILL', () => {
  it('loses no event and duplicates no effect when the process is killed mid-run and restarted', async () => {
    const backend = createSqliteBackend({ path: backendPath });
    await backend.ensureTopic('events', { partitions: 8 });
    for (let i = 0; i < EVENTS; i += 5000) {
      await backend.append(
        'events',
        Array.from({ length: 5000 }, (_, j) => ({
          id: `e${i + j}`,
          key: `k${(i + j) % 997}`,
          payload: { n: i + j },
        })),
      );
    }
    await backend.close();

    // First run: kill it hard once a good part of the work is done.
    const first = runPipeline();
    const deadline = Date.now() + 120_000;
    while (effectCount() < EVENTS / 4) {
      if (Date.now() > deadline) throw new Error('the pipeline made no progress');
      const early = await Promise.race([
        first.exited,
        new Promise<null>((r) => setTimeout(() => r(null), 50)),
      ]);
      if (early) throw new Error(`the pipeline exited early: ${early.out}`);
    }
    // Kill it at a moment when some effects are neither below a committed offset nor marked
    // as processed: those events must be delivered again after the restart. The process is
    // frozen (SIGSTOP) while this is checked, so the state cannot move under the check.
    let uncovered = 0;
    for (let tries = 0; uncovered === 0; tries++) {
      if (tries > 200) throw new Error('never caught the pipeline with unchecked-in work');
      first.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 5));
      uncovered = uncoveredEffects();
      if (uncovered === 0) {
        first.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');

    const check = createSqliteBackend({ path: backendPath });
    let committed = 0;
    for (let p = 0; p < 8; p++) committed += await check.committed('effects', 'events', p);
    await check.close();
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(EVENTS);

    // Second run resumes from the checkpoint and finishes.
    const second = runPipeline();
    const done = await second.exited;
    expect(done.code, done.out).toBe(0);

    const db = new Database(effectsPath, { readonly: true });
    const effects = db.prepare('SELECT count(*) AS c, count(DISTINCT event_id) AS d FROM effects').get() as {
      c: number;
      d: number;
    };
    const deliveries = (db.prepare('SELECT count(*) AS c FROM deliveries').get() as { c: number }).c;
    const sum = (db.prepare('SELECT sum(n) AS s FROM effects').get() as { s: number }).s;
    db.close();
    expect(effects.d).toBe(EVENTS); // 0 lost
    expect(effects.c).toBe(EVENTS); // 0 duplicate effects: one per event, same key on replay
    expect(sum).toBe((EVENTS * (EVENTS - 1)) / 2);
    // Work done after the last checkpoint was delivered again; its effects were not repeated.
    expect(deliveries).toBeGreaterThanOrEqual(EVENTS + uncovered);

    const after = createSqliteBackend({ path: backendPath });
    for (let p = 0; p < 8; p++) {
      expect(await after.committed('effects', 'events', p)).toBe(await after.endOffset('events', p));
    }
    await after.close();
  }, 240_000);
});
