// PostgreSQL membership: one upsert per heartbeat, liveness by the backend's clock.
import type { Member, MembershipStore } from '../Backend.ts';
import { checkMeta, checkName, checkNonNegativeInt } from '../common/args.ts';
import { decodeJson } from '../common/json.ts';
import type { PgConnection } from './PgConnection.ts';

interface MemberRow {
  node: string;
  meta: string;
  last_heartbeat: string;
  joined_at: string;
}

/** PostgreSQL {@link MembershipStore}: one upsert per heartbeat, time from the backend's clock. Part of {@link PostgresBackend}. */
export class PostgresMembership implements MembershipStore {
  constructor(private readonly conn: PgConnection) {}

  async heartbeat(node: string, meta?: Record<string, unknown>): Promise<void> {
    this.conn.ensureOpen();
    checkName('node', node);
    const metaText = meta === undefined ? null : checkMeta(meta);
    const s = this.conn.s;
    await this.conn.query(
      'membership.heartbeat',
      `INSERT INTO ${s}.members AS m (node, meta, last_heartbeat, joined_at)
       VALUES ($1, COALESCE($2::json, '{}'::json), $3, $3)
       ON CONFLICT (node) DO UPDATE SET
         last_heartbeat = excluded.last_heartbeat,
         meta = COALESCE($2::json, m.meta)`,
      [node, metaText, this.conn.clock.now()],
      undefined,
      false,
    );
  }

  async members(failureTimeoutMs: number): Promise<Member[]> {
    this.conn.ensureOpen();
    checkNonNegativeInt('failureTimeoutMs', failureTimeoutMs);
    const { rows } = await this.conn.query<MemberRow>(
      'membership.members',
      `SELECT node, meta::text AS meta, last_heartbeat, joined_at FROM ${this.conn.s}.members
       WHERE last_heartbeat >= $1 ORDER BY node`,
      [this.conn.clock.now() - failureTimeoutMs],
    );
    return rows.map((r) => ({
      node: r.node,
      meta: decodeJson<Record<string, unknown>>(r.meta),
      lastHeartbeat: Number(r.last_heartbeat),
      joinedAt: Number(r.joined_at),
    }));
  }

  async leave(node: string): Promise<void> {
    this.conn.ensureOpen();
    await this.conn.query(
      'membership.leave',
      `DELETE FROM ${this.conn.s}.members WHERE node = $1`,
      [node],
      undefined,
      false,
    );
  }
}
