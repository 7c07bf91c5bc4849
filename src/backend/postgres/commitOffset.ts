// PostgreSQL commit of one partition: the fence check, the monotonic offset move and the idempotency markers in one statement.
import type { CommitOptions } from '../Backend.ts';
import { checkKeys, checkName, checkNonNegativeInt, checkPartitionIndex } from '../common/args.ts';
import { fencedError } from '../common/errors.ts';
import { checkMarkerOffsets } from '../common/retention.ts';
import type { PgConnection } from './PgConnection.ts';
import { leaseHeldSql } from './pgLeaseSql.ts';

/**
 * `Backend.commit` of the PostgreSQL backend: one statement, hence one transaction, that checks
 * the fencing lease (share-locking its row), moves the offset monotonically and records the
 * idempotency keys. Rejects with `FENCED` when a fence is given and its lease does not hold the
 * token unexpired; nothing is written then.
 */
export async function pgCommit(
  conn: PgConnection,
  group: string,
  topic: string,
  partition: number,
  offset: number,
  options: CommitOptions = {},
): Promise<void> {
  conn.ensureOpen();
  checkName('group', group);
  checkName('topic', topic);
  checkPartitionIndex(partition);
  checkNonNegativeInt('offset', offset);
  const keys =
    options.idempotencyKeys === undefined ? [] : checkKeys('idempotencyKeys', options.idempotencyKeys);
  const markerOffsets = checkMarkerOffsets(keys, options.idempotencyOffsets);
  const fence = options.fence;
  // A fence that cannot name a lease or token cannot match one: refused like any stale token.
  if (fence !== undefined && (typeof fence.lease !== 'string' || !Number.isSafeInteger(fence.token))) {
    throw fencedError(fence, { group, topic, partition });
  }
  const s = conn.s;
  const params: unknown[] = [
    group,
    topic,
    partition,
    offset,
    conn.clock.now(),
    [...keys],
    markerOffsets === undefined ? keys.map(() => null) : [...markerOffsets],
  ];
  let fenceSql = 'SELECT 1 AS ok';
  if (fence !== undefined) {
    params.push(fence.lease, fence.token);
    // FOR SHARE: nobody can take the lease over (UPDATE its row) until this commit is done.
    fenceSql = `SELECT 1 AS ok FROM ${s}.leases l
        WHERE l.name = $8 AND l.token = $9 AND ${leaseHeldSql(s, 'l', '$5')} FOR SHARE OF l`;
  }
  // One statement, hence one transaction: the fence check, the monotonic offset update and the
  // idempotency markers. Both writes read the fence: when it is empty nothing is written.
  const { rows } = await conn.query<{ ok: string }>(
    'commit',
    `WITH fence AS (${fenceSql}),
       moved AS (
         INSERT INTO ${s}.offsets AS o (grp, topic, partition, committed_offset, updated_at)
         SELECT $1, $2, $3, $4, $5 FROM fence
         ON CONFLICT (grp, topic, partition) DO UPDATE
           SET committed_offset = GREATEST(o.committed_offset, excluded.committed_offset),
               updated_at = excluded.updated_at
           WHERE excluded.committed_offset > o.committed_offset
       ),
       marked AS (
         INSERT INTO ${s}.processed (grp, key, processed_at, topic, partition, event_offset)
         SELECT $1, u.k, $5, CASE WHEN u.o IS NULL THEN NULL ELSE $2::text END,
           CASE WHEN u.o IS NULL THEN NULL ELSE $3::int END, u.o
         FROM unnest($6::text[], $7::bigint[]) AS u(k, o) WHERE EXISTS (SELECT 1 FROM fence)
         ON CONFLICT (grp, key) DO NOTHING
       )
       SELECT count(*) AS ok FROM fence`,
    params,
    options.signal,
    false,
  );
  if (fence !== undefined && Number(rows[0]?.ok ?? 0) === 0) {
    throw fencedError(fence, { group, topic, partition });
  }
}
