// Redis membership: a ZSET of last heartbeats plus hashes of meta and join time.
import type { Clock } from '../../core/Clock.ts';
import type { Member, MembershipStore } from '../Backend.ts';
import { checkMeta, checkName, checkNonNegativeInt } from '../common/args.ts';
import { decodeJson } from '../common/json.ts';
import { compareCodePoints } from '../common/order.ts';
import type { RedisConnection } from './RedisConnection.ts';

/** {@link MembershipStore} on Redis: a ZSET node → last heartbeat plus meta and join-time hashes. Part of `RedisBackend`. */
export class RedisMembership implements MembershipStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
  ) {}

  heartbeat(node: string, meta?: Record<string, unknown>): Promise<void> {
    return this.conn.run('membership.heartbeat', async () => {
      checkName('node', node);
      const metaText = meta === undefined ? undefined : checkMeta(meta);
      await this.conn.script('sluiceHeartbeat', this.keys(), [
        node,
        this.clock.now(),
        metaText === undefined ? '0' : '1',
        metaText ?? '',
      ]);
    });
  }

  members(failureTimeoutMs: number): Promise<Member[]> {
    return this.conn.run('membership.members', async () => {
      checkNonNegativeInt('failureTimeoutMs', failureTimeoutMs);
      const oldest = this.clock.now() - failureTimeoutMs;
      const rows = (await this.conn.script('sluiceMembers', this.keys(), [oldest])) as string[];
      const out: Member[] = [];
      for (let i = 0; i < rows.length; i += 4) {
        out.push({
          node: rows[i]!,
          lastHeartbeat: Number(rows[i + 1]),
          meta: decodeJson<Record<string, unknown>>(rows[i + 2]!),
          joinedAt: Number(rows[i + 3]),
        });
      }
      return out.sort((a, b) => compareCodePoints(a.node, b.node));
    });
  }

  leave(node: string): Promise<void> {
    return this.conn.run('membership.leave', async () => {
      await this.conn.script('sluiceLeave', this.keys(), [node]);
    });
  }

  private keys(): string[] {
    const k = this.conn.keys;
    return [k.members, k.memberMeta, k.memberJoined];
  }
}
