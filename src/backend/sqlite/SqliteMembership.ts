// SQLite membership: heartbeat upserts and live-member listing by the backend's clock.
import type { Member, MembershipStore } from '../Backend.ts';
import { checkMeta, checkName, checkNonNegativeInt } from '../common/args.ts';
import { decodeJson } from '../common/json.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** SQLite {@link MembershipStore}. Part of {@link SqliteBackend}. */
export class SqliteMembership implements MembershipStore {
  constructor(private readonly conn: SqliteConnection) {}

  heartbeat(node: string, meta?: Record<string, unknown>): Promise<void> {
    return this.conn.run('membership.heartbeat', () => {
      checkName('node', node);
      const metaText = meta === undefined ? null : checkMeta(meta);
      this.conn
        .stmt(
          `INSERT INTO sluice_members (node, meta, last_heartbeat, joined_at)
           VALUES (@node, COALESCE(@meta, '{}'), @now, @now)
           ON CONFLICT (node) DO UPDATE SET last_heartbeat = @now, meta = COALESCE(@meta, meta)`,
        )
        .run({ node, meta: metaText, now: this.conn.clock.now() });
    });
  }

  members(failureTimeoutMs: number): Promise<Member[]> {
    return this.conn.run('membership.members', () => {
      checkNonNegativeInt('failureTimeoutMs', failureTimeoutMs);
      const rows = this.conn
        .stmt(
          'SELECT node, meta, last_heartbeat, joined_at FROM sluice_members WHERE last_heartbeat >= ? ORDER BY node',
        )
        .all(this.conn.clock.now() - failureTimeoutMs) as {
        node: string;
        meta: string;
        last_heartbeat: number;
        joined_at: number;
      }[];
      return rows.map((r) => ({
        node: r.node,
        meta: decodeJson<Record<string, unknown>>(r.meta),
        lastHeartbeat: r.last_heartbeat,
        joinedAt: r.joined_at,
      }));
    });
  }

  leave(node: string): Promise<void> {
    return this.conn.run('membership.leave', () => {
      this.conn.stmt('DELETE FROM sluice_members WHERE node = ?').run(node);
    });
  }
}
