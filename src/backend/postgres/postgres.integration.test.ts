// PostgreSQL backend tests on a real server: conformance, concurrent pools and processes, migrations, fencing, killed sessions, outages.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { isSluiceError } from '../../core/errors.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import type { LogEvent } from '../Backend.ts';
import { readAll, rejectsWithCode, T0 } from '../conformance/harness.ts';
import { runBackendConformance } from '../conformance/index.ts';
import { PG_MIGRATIONS } from './migrations.ts';
import type { PostgresBackendOptions } from './options.ts';
import { createPostgresBackend, type PostgresBackend } from './PostgresBackend.ts';

/** The local test server (trust authentication). */
const DB_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const admin = new pg.Pool({ connectionString: DB_URL, max: 4 });
afterAll(() => admin.end());

let seq = 0;
/** A schema name no other test (file, fork or run) uses. */
function freshSchema(): string {
  seq += 1;
  return `sluice_t${process.pid}_${Date.now().toString(36)}_${seq}`;
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

runBackendConformance('postgres', async ({ clock }) => {
  const schema = freshSchema();
  const backend = await createPostgresBackend({ connectionString: DB_URL, schema, clock });
  return { backend, cleanup: () => dropSchema(schema) };
});

const backendModule = fileURLToPath(new URL('./index.ts', import.meta.url));

describe('PostgresBackend', () => {
  const opened: PostgresBackend[] = [];
  const schemas: string[] = [];
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(opened.splice(0).map((b) => b.close()));
    await Promise.all(schemas.splice(0).map(dropSchema));
  });

  function schema(): string {
    const s = freshSchema();
    schemas.push(s);
    return s;
  }

  async function open(
    s: string,
    options: Omit<PostgresBackendOptions, 'schema'> = {},
  ): Promise<PostgresBackend> {
    const b = await createPostgresBackend({ connectionString: DB_URL, schema: s, ...options });
    opened.push(b);
    return b;
  }

  /**
   * The producer every test process runs: `batches` batches of 10 events with ids
   * `<name>-<seq>` spread over 4 partitions, each followed by a one-event append with the id
   * `shared-<i>` that every producer sends to a different partition: these appends lock
   * different partitions, so producers race on the same new id.
   */
  async function produce(b: PostgresBackend, name: string, index: number, batches: number): Promise<void> {
    let seq = 0;
    for (let i = 0; i < batches; i++) {
      const events = [];
      for (let j = 0; j < 10; j++) {
        const s = seq++;
        events.push({
          id: `${name}-${s}`,
          partition: (s * 7 + index) % 4,
          payload: { producer: name, seq: s },
        });
      }
      await b.append('t', events);
      await b.append('t', [
        { id: `shared-${i}`, partition: (i + index) % 4, payload: { shared: i, by: name } },
      ]);
    }
  }
  /** The same producer as source text, for child processes (types are already stripped at run time). */
  const producerSource = produce.toString();

  function childProducer(s: string, name: string, index: number, batches: number): Promise<number | null> {
    const script = `
      const { createPostgresBackend } = await import(${JSON.stringify(backendModule)});
      const b = await createPostgresBackend({ connectionString: ${JSON.stringify(DB_URL)}, schema: ${JSON.stringify(s)}, pool: { max: 3 } });
      try {
        await (${producerSource})(b, ${JSON.stringify(name)}, ${index}, ${batches});
      } finally {
        await b.close();
      }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    return new Promise((resolve) => {
      child.once('exit', (code) => {
        if (code !== 0) console.error(stderr);
        resolve(code);
      });
    });
  }

  it('concurrent appends from several pools and processes keep offsets dense and ids unique', async () => {
    const s = schema();
    const main = await open(s);
    await main.ensureTopic('t', { partitions: 4 });
    const heard = new Set<number>();
    const off = main.watch('t', (p) => heard.add(p));
    const batches = 12;
    const pools = await Promise.all([0, 1, 2].map(() => open(s, { pool: { max: 3 } })));
    const outcomes = await Promise.all([
      ...pools.map((b, i) => produce(b, `pool${i}`, i, batches)),
      childProducer(s, 'proc0', 3, batches),
      childProducer(s, 'proc1', 4, batches),
    ]);
    expect(outcomes.slice(3)).toEqual([0, 0]);

    const producers = ['pool0', 'pool1', 'pool2', 'proc0', 'proc1'];
    const all: LogEvent[] = [];
    for (let p = 0; p < 4; p++) {
      const events = await readAll(main, 't', p);
      expect(events.map((e) => e.offset)).toEqual(events.map((_, i) => i));
      expect(await main.endOffset('t', p)).toBe(events.length);
      const last = new Map<string, number>();
      for (const e of events) {
        const { producer, seq: n } = e.payload as { producer?: string; seq?: number };
        if (producer === undefined || n === undefined) continue;
        expect(n).toBeGreaterThan(last.get(producer) ?? -1);
        last.set(producer, n);
      }
      all.push(...events);
    }
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('shared-')).sort()).toEqual(
      Array.from({ length: batches }, (_, i) => `shared-${i}`).sort(),
    );
    expect(all.length).toBe(producers.length * batches * 10 + batches);
    // Other processes' appends wake this process's watcher.
    await vi.waitFor(() => expect(heard.size).toBe(4), { timeout: 5000, interval: 20 });
    off();
  });

  it('one new id appended at once to different partitions by several pools is stored once', async () => {
    const s = schema();
    const nodes = await Promise.all(Array.from({ length: 6 }, () => open(s, { pool: { max: 2 } })));
    await nodes[0]!.ensureTopic('t', { partitions: 6 });
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        nodes.map((n, i) => n.append('t', [{ id: `same-${round}`, partition: i, payload: i }])),
      );
      const positions = new Set(results.map(([r]) => `${r!.partition}:${r!.offset}`));
      expect(positions.size).toBe(1);
    }
    let total = 0;
    for (let p = 0; p < 6; p++) {
      const events = await readAll(nodes[0]!, 't', p);
      expect(events.map((e) => e.offset)).toEqual(events.map((_, i) => i));
      total += events.length;
    }
    expect(total).toBe(10);
  });

  it('five backends starting at once on a new schema apply each migration exactly once', async () => {
    const s = schema();
    const backends = await Promise.all(Array.from({ length: 5 }, () => open(s)));
    const applied = backends.map((b) => b.appliedMigrations);
    const versions = PG_MIGRATIONS.map((m) => m.version);
    expect(applied.filter((a) => a.length > 0)).toEqual([versions]);
    expect(applied.flat()).toEqual(versions);
    const { rows } = await admin.query(`SELECT version FROM "${s}".migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(versions);
    // All five share one store.
    await backends[0]!.ensureTopic('t', { partitions: 2 });
    await backends[3]!.append('t', [{ payload: 'x', partition: 1 }]);
    expect((await backends[4]!.read('t', 1, 0, 10)).map((e) => e.payload)).toEqual(['x']);
  });

  it('refuses a schema migrated by a newer version with INVALID_STATE', async () => {
    const s = schema();
    await (await open(s)).close();
    await admin.query(`INSERT INTO "${s}".migrations (version, name, applied_at) VALUES (999, 'future', 0)`);
    await rejectsWithCode(createPostgresBackend({ connectionString: DB_URL, schema: s }), 'INVALID_STATE');
  });

  it('a stale holder whose clock lags is fenced as soon as the lease is taken over', async () => {
    const s = schema();
    // Node A's clock says its lease is still valid; node B's clock says it expired.
    const a = await open(s, { clock: new ManualClock(T0 + 500) });
    const b = await open(s, { clock: new ManualClock(T0 + 1000) });
    const lease = await (await open(s, { clock: new ManualClock(T0) })).leases.acquire('p0', 'node-a', 1000);
    const fenceA = { lease: 'p0', token: lease!.fencingToken };
    const commitA = (i: number) =>
      a.commit('g', 't', 0, i, { idempotencyKeys: [`a-${i}`], fence: fenceA }).then(
        () => 'ok' as const,
        (e: unknown) => {
          if (isSluiceError(e) && e.code === 'FENCED') return 'fenced' as const;
          throw e;
        },
      );
    // Commits before the takeover, racing with it, and after it.
    const before = await Promise.all(Array.from({ length: 10 }, (_, i) => commitA(i + 1)));
    expect(before.every((r) => r === 'ok')).toBe(true);
    const racing = Array.from({ length: 30 }, (_, i) => commitA(i + 11));
    const taken = await b.leases.acquire('p0', 'node-b', 1000);
    expect(taken!.fencingToken).toBeGreaterThan(lease!.fencingToken);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => commitA(i + 41)));
    expect(after.every((r) => r === 'fenced')).toBe(true);
    const raced = await Promise.all(racing);
    await b.commit('g', 't', 0, 100, { fence: { lease: 'p0', token: taken!.fencingToken } });

    // A commit either happened whole (offset and key) or not at all.
    const outcomes = [...before, ...raced, ...after];
    const keys = outcomes.map((_, i) => `a-${i + 1}`);
    const marked = await b.processed('g', keys);
    for (const [i, r] of outcomes.entries()) expect(marked.has(`a-${i + 1}`)).toBe(r === 'ok');
    expect(await b.committed('g', 't', 0)).toBe(100);
  });

  it('concurrent acquires from five pools: exactly one owner wins', async () => {
    const s = schema();
    const clock = new ManualClock(T0);
    const nodes = await Promise.all(Array.from({ length: 5 }, () => open(s, { clock })));
    const results = await Promise.all(nodes.map((n, i) => n.leases.acquire('L', `node-${i}`, 1000)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(await nodes[0]!.leases.get('L')).toEqual(winners[0]);
  });

  it('an unreachable server rejects with BACKEND_UNAVAILABLE (retryable) instead of hanging', async () => {
    const err = await rejectsWithCode(
      createPostgresBackend({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: schema() }),
      'BACKEND_UNAVAILABLE',
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('postgres');
  });

  it('recovers after its sessions are killed: pool, in-flight work and the LISTEN connection', async () => {
    const s = schema();
    const app = `sluice-kill-${s}`;
    const b = await open(s, { applicationName: app, reconnect: { initialMs: 20, maxMs: 200 } });
    await b.ensureTopic('t', { partitions: 2 });
    const heard: number[] = [];
    b.watch('t', (p) => heard.push(p));
    await b.append('t', [{ payload: 1, partition: 0 }]);
    await vi.waitFor(() => expect(heard).toContain(0), { timeout: 5000, interval: 20 });
    expect(b.listenerState).toBe('listening');
    expect(b.listenerConnects).toBe(1);

    // An append stuck behind another transaction's lock when its session is terminated.
    const locker = await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM "${s}".partitions WHERE partition = 1 FOR UPDATE`);
      // The expectation is attached at once: the rejection may come before the next await ends.
      const stuck = rejectsWithCode(
        b.append('t', [{ payload: 'stuck', partition: 1 }]),
        'BACKEND_UNAVAILABLE',
      );
      await vi.waitFor(
        async () => {
          const { rows } = await admin.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
            [app],
          );
          expect(rows[0].n).toBe(1);
        },
        { timeout: 5000, interval: 20 },
      );
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [app],
      );
      expect((await stuck).retryable).toBe(true);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }

    // The pool serves again, nothing of the failed append was kept, and the listener is back.
    await vi.waitFor(() => expect(b.listenerConnects).toBe(2), { timeout: 10_000, interval: 20 });
    expect(b.listenerState).toBe('listening');
    const [r] = await b.append('t', [{ payload: 2, partition: 1 }]);
    expect(r!.offset).toBe(0);
    await vi.waitFor(() => expect(heard).toContain(1), { timeout: 5000, interval: 20 });
    expect((await b.read('t', 1, 0, 10)).map((e) => e.payload)).toEqual([2]);
  });

  it('an append aborted while waiting for a partition lock rolls back and rejects with ABORTED', async () => {
    const s = schema();
    const app = `sluice-abort-${s}`;
    const b = await open(s, { applicationName: app });
    await b.ensureTopic('t', { partitions: 1 });
    const locker = await admin.connect();
    const ctrl = new AbortController();
    let pending: Promise<unknown> | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM "${s}".partitions FOR UPDATE`);
      pending = rejectsWithCode(b.append('t', [{ payload: 'x' }], { signal: ctrl.signal }), 'ABORTED');
      await vi.waitFor(
        async () => {
          const { rows } = await admin.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
            [app],
          );
          expect(rows[0].n).toBe(1);
        },
        { timeout: 5000, interval: 20 },
      );
      ctrl.abort();
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await pending;
    expect(await b.endOffset('t', 0)).toBe(0);
  });

  it('with notify off, appends send no wake-up; other instances still hear their own', async () => {
    const s = schema();
    const watcher = await open(s);
    const quiet = await open(s, { notify: false });
    const loud = await open(s);
    await watcher.ensureTopic('t', { partitions: 4 });
    const heard: number[] = [];
    watcher.watch('t', (p) => heard.push(p));
    await watcher.ready();
    await vi.waitFor(() => expect(watcher.listenerState).toBe('listening'), { timeout: 5000, interval: 10 });
    await quiet.append('t', [{ payload: 'quiet', partition: 1 }]);
    await loud.append('t', [{ payload: 'loud', partition: 2 }]);
    // Notifications arrive in commit order: once the later one is heard, the earlier would have been.
    await vi.waitFor(() => expect(heard).toContain(2), { timeout: 5000, interval: 10 });
    expect(heard).toEqual([2]);
  });

  it('a NUL character in a key is CONFIG_INVALID and appends nothing', async () => {
    const b = await open(schema());
    await b.ensureTopic('t', { partitions: 1 });
    await rejectsWithCode(
      b.append('t', [{ payload: 1 }, { payload: 2, key: 'a\u0000b', partition: 0 }]),
      'CONFIG_INVALID',
    );
    expect(await b.endOffset('t', 0)).toBe(0);
  });

  it('rejects invalid options with CONFIG_INVALID naming the field', async () => {
    await expect(createPostgresBackend({ schema: 'Bad-Name' })).rejects.toThrow(/`PostgresBackend\.schema`/);
    await expect(createPostgresBackend({ connectionTimeoutMs: 0 })).rejects.toThrow(
      /`PostgresBackend\.connectionTimeoutMs`/,
    );
  });

  it('never reads the server clock: no SQL in the backend calls now() or CURRENT_TIMESTAMP', () => {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(5);
    for (const f of sources) {
      // SQL lives in template literals; check each one.
      const templates = readFileSync(`${dir}/${f}`, 'utf8').match(/`[^`]*`/g) ?? [];
      for (const sql of templates) {
        expect(sql, f).not.toMatch(
          /(?<![.\w])now\(\)|current_(timestamp|date|time)|clock_timestamp|localtime/i,
        );
      }
    }
  });
});
