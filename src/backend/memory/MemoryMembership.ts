// The memory backend's membership: last heartbeat, join time and JSON meta per node.
import type { Clock } from '../../core/Clock.ts';
import type { Member, MembershipStore } from '../Backend.ts';
import { checkMeta, checkName, checkNonNegativeInt } from '../common/args.ts';
import { decodeJson } from '../common/json.ts';
import { compareCodePoints } from '../common/order.ts';

interface MemberRow {
  /** JSON text of the metadata. */
  meta: string;
  lastHeartbeat: number;
  joinedAt: number;
}

/** In-memory {@link MembershipStore}. Part of {@link MemoryBackend}. */
export class MemoryMembership implements MembershipStore {
  private readonly rows = new Map<string, MemberRow>();

  constructor(
    private readonly clock: Clock,
    private readonly ensureOpen: () => void,
  ) {}

  async heartbeat(node: string, meta?: Record<string, unknown>): Promise<void> {
    this.ensureOpen();
    checkName('node', node);
    const metaText = meta === undefined ? undefined : checkMeta(meta);
    const now = this.clock.now();
    const row = this.rows.get(node);
    if (row === undefined) {
      this.rows.set(node, { meta: metaText ?? '{}', lastHeartbeat: now, joinedAt: now });
      return;
    }
    row.lastHeartbeat = now;
    if (metaText !== undefined) row.meta = metaText;
  }

  async members(failureTimeoutMs: number): Promise<Member[]> {
    this.ensureOpen();
    checkNonNegativeInt('failureTimeoutMs', failureTimeoutMs);
    const oldest = this.clock.now() - failureTimeoutMs;
    const out: Member[] = [];
    for (const [node, row] of this.rows) {
      if (row.lastHeartbeat >= oldest) {
        out.push({
          node,
          meta: decodeJson<Record<string, unknown>>(row.meta),
          lastHeartbeat: row.lastHeartbeat,
          joinedAt: row.joinedAt,
        });
      }
    }
    return out.sort((a, b) => compareCodePoints(a.node, b.node));
  }

  async leave(node: string): Promise<void> {
    this.ensureOpen();
    this.rows.delete(node);
  }
}
