// SQLite commitMany: every commit of the list in one IMMEDIATE transaction, each fence checked on its own.
import type { CommitOutcome, CommitRequest } from '../Backend.ts';
import { checkName } from '../common/args.ts';
import { checkCommitRequests } from '../common/batchArgs.ts';
import type { SqliteConnection } from './SqliteConnection.ts';
import type { SqliteLeases } from './SqliteLeases.ts';

/** `Backend.commitMany` of the SQLite backend. */
export function sqliteCommitMany(
  conn: SqliteConnection,
  leases: SqliteLeases,
  group: string,
  topic: string,
  commits: readonly CommitRequest[],
): Promise<CommitOutcome[]> {
  return conn.run('commitMany', () => {
    checkName('group', group);
    checkName('topic', topic);
    checkCommitRequests(commits);
    if (commits.length === 0) return [];
    return conn.write(() => {
      const now = conn.clock.now();
      const upsert = conn.stmt(
        `INSERT INTO sluice_offsets (grp, topic, partition_index, committed_offset, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (grp, topic, partition_index) DO UPDATE
           SET committed_offset = excluded.committed_offset, updated_at = excluded.updated_at
           WHERE excluded.committed_offset > sluice_offsets.committed_offset`,
      );
      return commits.map((c): CommitOutcome => {
        if (c.fence !== undefined && !leases.holdsSync(c.fence.lease, c.fence.token, now)) return 'fenced';
        upsert.run(group, topic, c.partition, c.offset, now);
        return 'ok';
      });
    });
  });
}
