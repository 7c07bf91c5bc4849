// SQLite backend tests: conformance, reopen, two connections on one file, migrations, cross-process locks and a kill mid-append.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { rejectsWithCode, T0 } from '../conformance/harness.ts';
import { runBackendConformance } from '../conformance/index.ts';
import { MIGRATIONS } from './migrations.ts';
import { createSqliteBackend, SqliteBackend } from './SqliteBackend.ts';

runBackendConformance('sqlite', async ({ clock }) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
  return {
    backend: createSqliteBackend({ path: join(dir, 'sluice.db'), clock }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const backendModule = fileURLToPath(new URL('./index.ts', import.meta.url));

describe('SqliteBackend', () => {
  let dir: string;
  let file: string;
  const open: SqliteBackend[] = [];
  const children: ChildProcess[] = [];

  function backend(clock = new ManualClock(T0), busyTimeoutMs?: number): SqliteBackend {
    const b = createSqliteBackend({
      path: file,
      clock,
      ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
    });
    open.push(b);
    return b;
  }

  /** Starts a process that appends batches of `batch` events (payload {writer, seq}) to partition 0. */
  function appender(writer: string, batches: number, batch: number): ChildProcess {
    const script = `
      const { createSqliteBackend } = await import(${JSON.stringify(backendModule)});
      const b = createSqliteBackend({ path: ${JSON.stringify(file)} });
      await b.ensureTopic('shared', { partitions: 1 });
      let seq = 0;
      for (let i = 0; i < ${batches}; i++) {
        const events = [];
        for (let j = 0; j < ${batch}; j++) events.push({ partition: 0, payload: { writer: ${JSON.stringify(writer)}, seq: seq++ } });
        await b.append('shared', events);
      }
      await b.close();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    return child;
  }

  function exited(child: ChildProcess): Promise<number | null> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
    file = join(dir, 'sluice.db');
  });

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const b of open.splice(0)) await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps everything across close and reopen', async () => {
    const clock = new ManualClock(T0);
    const a = backend(clock);
    await a.ensureTopic('orders', { partitions: 3 });
    await a.append('orders', [
      { id: 'o-1', key: 'c1', payload: { total: 10 }, headers: { h: 'v' } },
      { payload: 'second', partition: 2 },
    ]);
    await a.commit('billing', 'orders', 2, 1, { idempotencyKeys: ['charge-1'] });
    await a.dlq.put({
      id: 'bad',
      source: 'billing',
      payload: [1],
      error: { name: 'Error', message: 'x' },
      attempts: 2,
    });
    const lease = await a.leases.acquire('orders/2', 'node-a', 60_000);
    await a.membership.heartbeat('node-a', { zone: 'eu' });
    await a.close();

    const b = backend(clock);
    expect(await b.topicInfo('orders')).toEqual({ topic: 'orders', partitions: 3 });
    const [first] = await b.append('orders', [{ id: 'o-1', payload: 'duplicate' }]);
    expect(first).toMatchObject({ id: 'o-1', offset: 0 });
    expect(await b.read('orders', 2, 0, 10)).toMatchObject([{ payload: 'second', offset: 0, timestamp: T0 }]);
    expect(await b.endOffset('orders', 2)).toBe(1);
    expect(await b.committed('billing', 'orders', 2)).toBe(1);
    expect(await b.processed('billing', ['charge-1', 'charge-2'])).toEqual(new Set(['charge-1']));
    expect(await b.dlq.get('bad')).toMatchObject({ deliveryCount: 1, attempts: 2, payload: [1] });
    expect(await b.leases.get('orders/2')).toEqual(lease);
    expect(await b.leases.acquire('orders/2', 'node-b', 1000)).toBeNull();
    expect(await b.membership.members(5000)).toEqual([
      { node: 'node-a', meta: { zone: 'eu' }, lastHeartbeat: T0, joinedAt: T0 },
    ]);
  });

  it('two connections on one file see each other’s appends, commits and leases', async () => {
    const clock = new ManualClock(T0);
    const a = backend(clock);
    const b = backend(clock);
    await a.ensureTopic('t', { partitions: 2 });
    expect(await b.ensureTopic('t', { partitions: 5 })).toEqual({ topic: 't', partitions: 2 });
    for (let i = 0; i < 10; i++) {
      await (i % 2 === 0 ? a : b).append('t', [{ payload: i, partition: 1 }]);
    }
    for (const conn of [a, b]) {
      const events = await conn.read('t', 1, 0, 100);
      expect(events.map((e) => [e.offset, e.payload])).toEqual(Array.from({ length: 10 }, (_, i) => [i, i]));
    }
    const [dup] = await b.append('t', [{ id: 'x', payload: 1 }]);
    expect(await a.append('t', [{ id: 'x', payload: 2 }])).toEqual([dup]);

    const lease = await a.leases.acquire('p1', 'node-a', 1000);
    expect(await b.leases.acquire('p1', 'node-b', 1000)).toBeNull();
    await clock.advance(1000);
    const taken = await b.leases.acquire('p1', 'node-b', 1000);
    await rejectsWithCode(
      a.commit('g', 't', 1, 5, { fence: { lease: 'p1', token: lease!.fencingToken } }),
      'FENCED',
    );
    await b.commit('g', 't', 1, 5, { fence: { lease: 'p1', token: taken!.fencingToken } });
    expect(await a.committed('g', 't', 1)).toBe(5);
  });

  it('migrations are recorded once and reopening applies nothing again', async () => {
    backend();
    backend();
    for (const b of open.splice(0)) await b.close();
    backend();
    const raw = new BetterSqlite3(file);
    try {
      const rows = raw
        .prepare('SELECT version, name, applied_at FROM sluice_migrations ORDER BY version')
        .all();
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: T0 })));
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sluice_%' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual([
        'sluice_assignments',
        'sluice_delayed',
        'sluice_dlq',
        'sluice_events',
        'sluice_leases',
        'sluice_limit_parks',
        'sluice_limit_slots',
        'sluice_members',
        'sluice_migrations',
        'sluice_offsets',
        'sluice_partitions',
        'sluice_processed',
        'sluice_rate_buckets',
        'sluice_schedules',
        'sluice_topic_ttl',
        'sluice_topics',
      ]);
    } finally {
      raw.close();
    }
  });

  it('refuses a file migrated by a newer version with INVALID_STATE', async () => {
    const b = backend();
    await b.close();
    const raw = new BetterSqlite3(file);
    raw
      .prepare('INSERT INTO sluice_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(999, 'future', 0);
    raw.close();
    expect(() => backend()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('a write blocked by another process’s lock fails with retryable BACKEND_UNAVAILABLE', async () => {
    const b = backend(new ManualClock(T0), 50);
    await b.ensureTopic('t', { partitions: 1 });
    const raw = new BetterSqlite3(file);
    try {
      raw.exec('BEGIN IMMEDIATE');
      const err = await rejectsWithCode(b.append('t', [{ payload: 1 }]), 'BACKEND_UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expect(await b.endOffset('t', 0)).toBe(0);
      raw.exec('COMMIT');
      await b.append('t', [{ payload: 1 }]);
      expect(await b.endOffset('t', 0)).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('appends from two processes on one file interleave with dense offsets and per-writer order', async () => {
    const writers = ['w1', 'w2'].map((w) => appender(w, 40, 5));
    const codes = await Promise.all(writers.map(exited));
    expect(codes).toEqual([0, 0]);
    const b = backend();
    const events = await b.read('shared', 0, 0, 1000);
    expect(events.map((e) => e.offset)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    for (const w of ['w1', 'w2']) {
      const seqs = events
        .map((e) => e.payload as { writer: string; seq: number })
        .filter((p) => p.writer === w)
        .map((p) => p.seq);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
  });

  it('a process killed mid-append leaves only whole batches and dense offsets', async () => {
    const child = appender('victim', 100_000, 10);
    const b = backend();
    await vi.waitFor(
      async () => {
        const info = await b.topicInfo('shared');
        expect(info && (await b.endOffset('shared', 0))).toBeGreaterThanOrEqual(200);
      },
      { timeout: 20_000, interval: 20 },
    );
    child.kill('SIGKILL');
    await exited(child);
    const end = await b.endOffset('shared', 0);
    expect(end % 10).toBe(0);
    const events = await b.read('shared', 0, 0, end + 10);
    expect(events).toHaveLength(end);
    expect(events.map((e) => (e.payload as { seq: number }).seq)).toEqual(events.map((_, i) => i));
    const [next] = await b.append('shared', [{ partition: 0, payload: 'after crash' }]);
    expect(next!.offset).toBe(end);
  });

  it('rejects invalid options with CONFIG_INVALID naming the field', () => {
    expect(() => new SqliteBackend({ path: '' })).toThrow(/`SqliteBackend\.path`/);
    expect(() => new SqliteBackend({ path: file, busyTimeoutMs: -1 })).toThrow(
      /`SqliteBackend\.busyTimeoutMs`/,
    );
  });

  it('works on a private in-memory database', async () => {
    const b = createSqliteBackend({ path: ':memory:', clock: new ManualClock(T0) });
    open.push(b);
    await b.ensureTopic('t', { partitions: 1 });
    await b.append('t', [{ payload: 'x' }]);
    expect((await b.read('t', 0, 0, 1))[0]!.payload).toBe('x');
  });
});
