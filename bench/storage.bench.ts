// Bench: PostgreSQL bytes per event and marker by schema version, and bounded storage under maxEvents retention.
/**
 * Storage of the durable backends under retention.
 *
 * Part 1 — PostgreSQL bytes per event and per idempotency marker, schema version 1 (before) vs
 * the current schema (after: the event-id unique index keys on a 16-byte digest), measured with
 * `pg_relation_size` / `pg_indexes_size` after STORAGE_N rows written the same way into both
 * (the same multi-row INSERT in batches of 1000, random UUID ids, a 71–73 byte JSON payload).
 *
 * Part 2 — bounded storage: BOUNDED_N events appended through a Sluice pipeline (a stream of
 * keyed event batches of 1000, PIPELINE_WORKERS workers whose process function appends its batch
 * to the topic) to a topic with `maxEvents: 1_000_000`, while the backend's background trimmer
 * (`createTrimmer`, lease-elected, every TRIM_MS) applies the retention. PostgreSQL:
 * `pg_total_relation_size` of the events table after the first 1 M and at the end (each after one
 * more trim). Redis: `used_memory` (server-wide, so other users of the server move it) and
 * `MEMORY USAGE` of this run's own keys, at 1 M and at the end.
 *
 * Run: `node --import tsx bench/storage.bench.ts` (env `SLUICE_BENCH_POSTGRES_URL`,
 * `SLUICE_BENCH_REDIS_URL`, `STORAGE_N` default 100000, `BOUNDED_N` default 10000000,
 * `TRIM_MS` default 500, `BUSY_MS` (busyIntervalMs, default the trimmer's), `PIPELINE_WORKERS` default 4, `BOUNDED_MAX` default 1000000, `BENCH_ONLY` = `pg` | `redis` | `per-event`). Writes
 * bench/results/storage.json.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { AppendInput, Backend } from '../src/backend/Backend.ts';
import { createTrimmer } from '../src/backend/common/RetentionTrimmer.ts';
import { createPostgresBackend } from '../src/backend/postgres/index.ts';
import { migratePg, PG_MIGRATIONS, quoteIdent } from '../src/backend/postgres/migrations.ts';
import { createRedisBackend } from '../src/backend/redis/index.ts';
import { stream } from '../src/pipeline/stream.ts';
import { environment, markdownTable, writeBenchResult } from './run.ts';

const PG_URL = process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.SLUICE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const STORAGE_N = Number(process.env.STORAGE_N ?? 100_000);
const BOUNDED_N = Number(process.env.BOUNDED_N ?? 10_000_000);
const TRIM_MS = Number(process.env.TRIM_MS ?? 500);
const BUSY_MS = process.env.BUSY_MS === undefined ? undefined : Number(process.env.BUSY_MS);
const PIPELINE_WORKERS = Number(process.env.PIPELINE_WORKERS ?? 4);
const ONLY = process.env.BENCH_ONLY;
const MAX_EVENTS = Number(process.env.BOUNDED_MAX ?? 1_000_000);
const BATCH = 1000;
const RUN = `bench-storage-${process.pid}-${Date.now().toString(36)}`;

const payload = (i: number) => ({
  orderId: `o-${1_000_000 + i}`,
  customer: `c-${i % 97}`,
  total: i * 1.5,
  lines: [1, 2, 3],
});

const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Writes n events and n markers into `schema` with plain SQL (identical for both schema versions). */
async function fillRaw(schema: string, n: number, withMarkerOffsets: boolean): Promise<void> {
  const s = quoteIdent(schema);
  await admin.query(`INSERT INTO ${s}.topics (name, partitions, created_at) VALUES ('orders', 1, 0)`);
  for (let b = 0; b < n; b += BATCH) {
    const offsets = Array.from({ length: BATCH }, (_, i) => b + i);
    await admin.query(
      `INSERT INTO ${s}.events (topic_id, partition, event_offset, id, key, payload, headers, ts)
       SELECT 1, 0, o, id, k, pl::json, NULL, $5 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(o, id, k, pl)`,
      [
        offsets,
        offsets.map(() => randomUUID()),
        offsets.map((o) => `c-${o % 97}`),
        offsets.map((o) => JSON.stringify(payload(o))),
        Date.now(),
      ],
    );
    const keys = offsets.map((o) => `billing:orders:0:${o}`);
    if (withMarkerOffsets)
      await admin.query(
        `INSERT INTO ${s}.processed (grp, key, processed_at, topic, partition, event_offset)
         SELECT 'billing', k, $3, 'orders', 0, o FROM unnest($1::text[], $2::bigint[]) AS u(k, o)`,
        [keys, offsets, Date.now()],
      );
    else
      await admin.query(
        `INSERT INTO ${s}.processed (grp, key, processed_at) SELECT 'billing', k, $2 FROM unnest($1::text[]) AS k`,
        [keys, Date.now()],
      );
  }
}

interface PerEvent {
  table: number;
  indexes: number;
  idIndex: number;
  marker: number;
}

async function measurePerEvent(schema: string, n: number): Promise<PerEvent> {
  const s = quoteIdent(schema);
  await admin.query(`VACUUM ANALYZE ${s}.events`);
  await admin.query(`VACUUM ANALYZE ${s}.processed`);
  const q = async (sql: string) => Number((await admin.query<{ v: string }>(sql)).rows[0]!.v);
  const lit = (rel: string) => `'${schema.replaceAll("'", "''")}.${rel}'`;
  return {
    table: (await q(`SELECT pg_relation_size(${lit('events')}) AS v`)) / n,
    indexes: (await q(`SELECT pg_indexes_size(${lit('events')}) AS v`)) / n,
    idIndex: (await q(`SELECT pg_relation_size(${lit('events_topic_id_uniq')}) AS v`)) / n,
    marker: (await q(`SELECT pg_total_relation_size(${lit('processed')}) AS v`)) / n,
  };
}

async function perEventSizes(): Promise<{ before: PerEvent; after: PerEvent }> {
  const before = `${RUN}-v1`;
  const after = `${RUN}-v2`;
  const client = await admin.connect();
  try {
    await migratePg(client, before, Date.now(), PG_MIGRATIONS.slice(0, 1));
    await migratePg(client, after, Date.now());
  } finally {
    client.release();
  }
  try {
    await fillRaw(before, STORAGE_N, false);
    await fillRaw(after, STORAGE_N, true);
    return {
      before: await measurePerEvent(before, STORAGE_N),
      after: await measurePerEvent(after, STORAGE_N),
    };
  } finally {
    for (const s of [before, after]) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  }
}

/** Batches of BATCH keyed events, numbered from `from` up to `to` (exclusive): the pipeline's source. */
async function* eventBatches(from: number, to: number): AsyncGenerator<AppendInput[]> {
  for (let n = from; n < to; n += BATCH)
    yield Array.from({ length: Math.min(BATCH, to - n) }, (_, i) => ({
      key: `c-${(n + i) % 97}`,
      payload: payload(n + i),
    }));
}

/**
 * Appends events `from`..`to` through a pipeline: a stream of event batches, PIPELINE_WORKERS
 * workers, each batch appended by the process function (the pipeline's sink).
 */
async function pipeThrough(backend: Backend, from: number, to: number): Promise<void> {
  const report = await stream(eventBatches(from, to))
    .concurrent({ maxWorkers: PIPELINE_WORKERS, maxInFlight: PIPELINE_WORKERS * 2 })
    .process(async (batch) => {
      await backend.append('orders', batch);
    })
    .run();
  if (report.failed > 0) throw new Error(`${report.failed} batches failed to append`);
}

/**
 * Appends BOUNDED_N events through a pipeline while the backend's background trimmer (lease
 * elected, every TRIM_MS) applies `maxEvents`; measures after the first MAX_EVENTS and at the
 * end, each time after one more trim so both figures are taken at the retention limit.
 */
async function appendBounded(
  backend: Backend,
  measure: () => Promise<number>,
): Promise<{ at1m: number; atEnd: number; seconds: number; trims: number }> {
  await backend.ensureTopic('orders', { partitions: 1, retention: { maxEvents: MAX_EVENTS } });
  let trims = 0;
  const trimmer = createTrimmer(backend, {
    intervalMs: TRIM_MS,
    ...(BUSY_MS !== undefined ? { busyIntervalMs: BUSY_MS } : {}),
    leaseName: `${RUN}:trimmer`,
    onTrim: () => {
      trims++;
    },
  });
  const started = performance.now();
  try {
    await pipeThrough(backend, 0, MAX_EVENTS);
    await backend.trim('orders');
    const at1m = await measure();
    for (let n = MAX_EVENTS; n < BOUNDED_N; n += 1_000_000) {
      await pipeThrough(backend, n, Math.min(BOUNDED_N, n + 1_000_000));
      // Progress with a size sample every million, so a run cut short still says where it was.
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      console.error(
        `${backend.kind}: ${Math.min(BOUNDED_N, n + 1_000_000)} events, ${secs} s, ${trims} trims`,
      );
    }
    await backend.trim('orders');
    return { at1m, atEnd: await measure(), seconds: (performance.now() - started) / 1000, trims };
  } finally {
    await trimmer.close();
  }
}

async function boundedPostgres() {
  const schema = `bench_storage_${process.pid}`;
  const backend = await createPostgresBackend({ connectionString: PG_URL, schema, notify: false });
  const rel = `'${schema}.events'`; // a plain identifier: no quoting needed
  const measure = async () =>
    Number((await admin.query<{ v: string }>(`SELECT pg_total_relation_size(${rel}) AS v`)).rows[0]!.v);
  try {
    return await appendBounded(backend, measure);
  } finally {
    await backend.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  }
}

async function boundedRedis() {
  const prefix = `${RUN}:r`;
  const backend = createRedisBackend({ url: REDIS_URL, prefix });
  const redis = new Redis(REDIS_URL);
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  const own = async () => {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) total += Number((await redis.memory('USAGE', k, 'SAMPLES', 0)) ?? 0);
    } while (cursor !== '0');
    return total;
  };
  const samples: { used: number; own: number }[] = [];
  try {
    const r = await appendBounded(backend, async () => {
      const sample = { used: await used(), own: await own() };
      samples.push(sample);
      return sample.own;
    });
    return { ...r, used1m: samples[0]!.used, usedEnd: samples[1]!.used };
  } finally {
    await backend.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  if (ONLY === undefined || ONLY === 'per-event') {
    const { before, after } = await perEventSizes();
    const fmt = (v: number) => Math.round(v);
    rows.push(['PostgreSQL bytes per event: table', fmt(before.table), fmt(after.table), '']);
    rows.push(['PostgreSQL bytes per event: all indexes', fmt(before.indexes), fmt(after.indexes), '']);
    rows.push(['PostgreSQL bytes per event: event-id index', fmt(before.idIndex), fmt(after.idIndex), '']);
    rows.push([
      'PostgreSQL bytes per event: total',
      fmt(before.table + before.indexes),
      fmt(after.table + after.indexes),
      '',
    ]);
    rows.push([
      'PostgreSQL bytes per idempotency marker (table + indexes)',
      fmt(before.marker),
      fmt(after.marker),
      '',
    ]);
    notes.push(
      `Per-event sizes: ${STORAGE_N.toLocaleString('en-US')} events and markers written by the same SQL into a schema at version 1 ("before") and at the current version ("after"), then VACUUM ANALYZE.`,
      'Markers now carry their topic, partition and offset so trim can remove the passed ones: each one is a little larger, but the marker table no longer grows without end.',
    );
  }
  if (ONLY === undefined || ONLY === 'pg') {
    const r = await boundedPostgres();
    rows.push([
      `PostgreSQL events relation (pg_total_relation_size)`,
      mb(r.at1m),
      mb(r.atEnd),
      pct(r.at1m, r.atEnd),
    ]);
    notes.push(
      `PostgreSQL: ${BOUNDED_N.toLocaleString('en-US')} events in ${r.seconds.toFixed(0)} s through the pipeline, ${r.trims} background trims (each followed by VACUUM of the events table).`,
    );
  }
  if (ONLY === undefined || ONLY === 'redis') {
    const r = await boundedRedis();
    rows.push(["Redis MEMORY USAGE of the run's keys", mb(r.at1m), mb(r.atEnd), pct(r.at1m, r.atEnd)]);
    rows.push(['Redis used_memory (whole server)', mb(r.used1m), mb(r.usedEnd), pct(r.used1m, r.usedEnd)]);
    notes.push(
      `Redis: ${BOUNDED_N.toLocaleString('en-US')} events in ${r.seconds.toFixed(0)} s through the pipeline, ${r.trims} background trims. used_memory covers the whole shared server, so other users' keys move it.`,
    );
  }
  notes.push(
    `Bounded storage: ${BOUNDED_N.toLocaleString('en-US')} events through a pipeline (a stream of keyed batches of ${BATCH}, ${PIPELINE_WORKERS} workers, each appending its batch; 1 partition) to a topic with maxEvents ${MAX_EVENTS.toLocaleString('en-US')}, trimmed by the background trimmer every ${TRIM_MS} ms (${BUSY_MS === undefined ? 'after a busy round, one that removed at least 1% of what the topic keeps, 50 ms later: busyIntervalMs default' : `busyIntervalMs ${BUSY_MS}`}); "at 1 M" is measured after the first ${MAX_EVENTS.toLocaleString('en-US')} events and one more trim, "at end" likewise.`,
    'Shared 2-CPU machine with other test runs on the same PostgreSQL and Redis servers.',
  );
  const result = {
    title:
      'Storage under retention — PostgreSQL bytes per event before/after, size at 1 M vs 10 M events with maxEvents 1 M',
    columns: ['measure', 'before / at 1 M', 'after / at end', 'change'],
    rows,
    notes,
    measuredAt: new Date().toISOString(),
    environment: environment(),
  };
  // Partial runs (BENCH_ONLY) print their table without replacing the stored result.
  if (ONLY === undefined) writeBenchResult('storage', result);
  console.log(markdownTable(result.columns, result.rows));
  await admin.end();
}

await main();
