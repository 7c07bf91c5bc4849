// PostgreSQL commitMany: the commits of many partitions (each with its own fence) in one statement.
import type { CommitOutcome, CommitRequest, OpOptions } from '../Backend.ts';
import { checkName } from '../common/args.ts';
import { checkCommitRequests } from '../common/batchArgs.ts';
import type { PgConnection } from './PgConnection.ts';
import { leaseHeldSql } from './pgLeaseSql.ts';

/**
 * `Backend.commitMany` of the PostgreSQL backend: one statement, hence one transaction and one
 * WAL flush for every commit of the list. The fenced commits go through only when their lease row
 * holds the token and is held (unexpired, or its holder held); those rows are share-locked in name order (so a concurrent
 * `renewMany`, which locks in the same order, cannot deadlock with it) until the offsets are written.
 */
export async function pgCommitMany(
  conn: PgConnection,
  group: string,
  topic: string,
  commits: readonly CommitRequest[],
  options: OpOptions = {},
): Promise<CommitOutcome[]> {
  conn.ensureOpen();
  checkName('group', group);
  checkName('topic', topic);
  checkCommitRequests(commits);
  if (commits.length === 0) return [];
  const s = conn.s;
  const { rows } = await conn.query<{ partition: number }>(
    'commitMany',
    `WITH r AS (
       SELECT * FROM unnest($3::int[], $4::bigint[], $5::text[], $6::bigint[]) AS r(partition, off, lease, token)
     ),
     held AS (
       SELECT r.partition, r.off FROM r JOIN ${s}.leases l ON l.name = r.lease
       WHERE l.token = r.token AND ${leaseHeldSql(s, 'l', '$7')}
       ORDER BY l.name FOR SHARE OF l
     ),
     ok AS (SELECT partition, off FROM held UNION ALL SELECT partition, off FROM r WHERE lease IS NULL),
     moved AS (
       INSERT INTO ${s}.offsets AS o (grp, topic, partition, committed_offset, updated_at)
       SELECT $1, $2, partition, off, $7 FROM ok ORDER BY partition
       ON CONFLICT (grp, topic, partition) DO UPDATE
         SET committed_offset = GREATEST(o.committed_offset, excluded.committed_offset),
             updated_at = excluded.updated_at
         WHERE excluded.committed_offset > o.committed_offset
     )
     SELECT partition FROM ok`,
    [
      group,
      topic,
      commits.map((c) => c.partition),
      commits.map((c) => c.offset),
      commits.map((c) => c.fence?.lease ?? null),
      commits.map((c) => c.fence?.token ?? null),
      conn.clock.now(),
    ],
    options.signal,
    false,
  );
  const done = new Set(rows.map((r) => Number(r.partition)));
  return commits.map((c) => (done.has(c.partition) ? 'ok' : 'fenced'));
}
