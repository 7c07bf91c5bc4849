// `sluice status`: prints topics, consumer lag, partition owners and members of a backend as text or JSON.
import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import { collectStatus, type StatusSnapshot } from '../../dashboard/collectStatus.ts';
import { timeCounts } from '../../time/timeCounts.ts';
import { backendSpecFrom, withBackend } from '../backendSpec.ts';
import { newTable } from '../tableStyle.ts';
import { renderTimeCounts } from './schedulesStatus.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function ago(at: number, then: number): string {
  const s = Math.max(0, Math.round((at - then) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

/** How long a member may stay silent before `sluice status` calls it dead (the runners' default failureTimeout). */
export const DEFAULT_FAILURE_TIMEOUT_MS = 5000;

/** What a partition owner looks like from the status snapshot. */
export type OwnerState = 'alive' | 'dead' | 'lease_expired' | 'unknown';

/**
 * Splits a partition-lease owner as partitioned runners write it: `<node>#<instance>#<epoch>`
 * (`r1#5a5423b3#17`: runner `r1`, process instance `5a5423b3` — 8 hex digits drawn when the
 * runner starts, so a restarted runner of the same name is told apart — and the 17th partition
 * this instance acquired).
 */
export function parseOwner(owner: string): { node: string; instance: string; epoch: number } | undefined {
  const m = /^(.*)#([^#]+)#(\d+)$/.exec(owner);
  return m ? { node: m[1] ?? '', instance: m[2] ?? '', epoch: Number(m[3]) } : undefined;
}

/** Whether a member has been silent longer than `failureTimeoutMs`. */
function memberState(s: StatusSnapshot, lastHeartbeat: number, failureTimeoutMs: number): 'alive' | 'dead' {
  return s.at - lastHeartbeat > failureTimeoutMs ? 'dead' : 'alive';
}

/**
 * The state of a partition's owner: `lease_expired` when its lease ran out, `dead` when the
 * runner holding it (`<node>#<instance>#<epoch>`) has no fresh heartbeat, else `alive`;
 * `unknown` for owners that are not partitioned runners.
 */
export function ownerState(
  s: StatusSnapshot,
  group: string,
  topic: string,
  owner: string,
  leaseExpiresAt: number | undefined,
  failureTimeoutMs: number,
): OwnerState {
  if (leaseExpiresAt !== undefined && leaseExpiresAt <= s.at) return 'lease_expired';
  const parsed = parseOwner(owner);
  if (parsed === undefined) return 'unknown';
  const member = s.members.find(
    (m) => m.node === `sluice-runner/${group}/${topic}/${parsed.node}` && m.meta.instance === parsed.instance,
  );
  if (member === undefined) return 'dead';
  return memberState(s, member.lastHeartbeat, failureTimeoutMs);
}

/** Member metadata with numeric lists sorted numerically (`assigned: [2, 8, 10]`, not `10, 2, 8`). */
function renderMeta(meta: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta))
    out[k] = Array.isArray(v) && v.every((x) => typeof x === 'number') ? [...v].sort((a, b) => a - b) : v;
  return JSON.stringify(out);
}

function leaseCell(at: number, expiresAt: number | undefined): string {
  if (expiresAt === undefined) return '-';
  const s = Math.round((expiresAt - at) / 1000);
  return s > 0 ? `expires in ${s}s` : `EXPIRED ${-s}s ago`;
}

/** Renders a status snapshot as terminal tables. */
export function renderStatus(s: StatusSnapshot, failureTimeoutMs = DEFAULT_FAILURE_TIMEOUT_MS): string {
  const out: string[] = [`Backend: ${s.backend}    Dead letters: ${s.dlq.size}`];
  if (s.topics.length === 0) {
    out.push(
      'Topics: none known (name them with --topic, or they are discovered from leases and dead letters)',
    );
  } else {
    const t = newTable(['topic', 'partitions', 'end offsets (per partition)', 'events']);
    for (const topic of s.topics)
      t.push([
        topic.topic,
        topic.partitions.length,
        topic.partitions.map((p) => p.endOffset).join(' '),
        topic.endOffsetTotal,
      ]);
    out.push('Topics', t.toString());
  }
  if (s.groups.length === 0) {
    out.push(
      'Consumer groups: none known (name them with --group, or they are discovered from partition leases)',
    );
  } else {
    const t = newTable(['group', 'topic', 'partition', 'end', 'committed', 'lag', 'owner', 'token', 'lease']);
    for (const g of s.groups)
      for (const p of g.partitions) {
        let owner = p.owner ?? '-';
        if (p.owner !== undefined) {
          const state = ownerState(s, g.group, g.topic, p.owner, p.leaseExpiresAt, failureTimeoutMs);
          if (state === 'dead') owner += ' (DEAD: no heartbeat)';
          else if (state === 'lease_expired') owner += ' (lease expired)';
        }
        t.push([
          g.group,
          g.topic,
          p.partition,
          p.endOffset,
          p.committed,
          p.lag,
          owner,
          p.fencingToken ?? '-',
          leaseCell(s.at, p.leaseExpiresAt),
        ]);
      }
    out.push('Consumer groups', t.toString());
  }
  if (s.members.length > 0) {
    const t = newTable(['member', 'state', 'last heartbeat', 'joined', 'meta']);
    for (const m of s.members)
      t.push([
        m.node,
        memberState(s, m.lastHeartbeat, failureTimeoutMs) === 'dead' ? 'DEAD' : 'alive',
        ago(s.at, m.lastHeartbeat),
        ago(s.at, m.joinedAt),
        renderMeta(m.meta),
      ]);
    out.push('Members', t.toString());
  } else {
    out.push('Members: none');
  }
  const other = s.leases.filter((l) => !s.groups.some((g) => l.name.startsWith(`${g.group}/${g.topic}/`)));
  if (other.length > 0) {
    const t = newTable(['lease', 'owner', 'token', 'expires']);
    for (const l of other) t.push([l.name, l.owner, l.fencingToken, new Date(l.expiresAt).toISOString()]);
    out.push('Other leases', t.toString());
  }
  return `${out.join('\n')}\n`;
}

/**
 * `sluice status`: topics, consumer groups with lag and partition owners, members, leases and
 * DLQ size of a backend.
 */
export function register(program: Command): void {
  program
    .command('status')
    .description('Show topics, consumer-group lag, partition owners, members and DLQ size of a backend')
    .option(
      '-b, --backend <spec>',
      'memory | sqlite:<path> | postgres://... | redis://... (default SLUICE_BACKEND or sqlite)',
    )
    .option('-t, --topic <topic>', 'show this topic (repeatable); others are discovered', collect)
    .option('-g, --group <group>', 'show this consumer group on every known topic (repeatable)', collect)
    .option('--member-timeout <ms>', 'hide members silent for longer than this', '30000')
    .option(
      '--failure-timeout <duration>',
      "members silent for longer than this are flagged DEAD, and so are the partitions they own (the runners' failureTimeout)",
      '5s',
    )
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        backend?: string;
        topic?: string[];
        group?: string[];
        memberTimeout: string;
        failureTimeout: string;
        json?: boolean;
      }) => {
        const memberTimeoutMs = Number(opts.memberTimeout);
        if (!Number.isFinite(memberTimeoutMs) || memberTimeoutMs < 0)
          throw configError('--member-timeout', 'a number of ms >= 0', opts.memberTimeout);
        const failureTimeoutMs = parseDuration(opts.failureTimeout, '--failure-timeout');
        await withBackend(backendSpecFrom(opts.backend), async (backend) => {
          const snapshot = await collectStatus(backend, {
            topics: opts.topic ?? [],
            groups: opts.group ?? [],
            memberTimeoutMs,
          });
          const time = await timeCounts(backend);
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ ...annotate(snapshot, failureTimeoutMs), time }, null, 2)}\n`
              : renderStatus(snapshot, failureTimeoutMs) + renderTimeCounts(time),
          );
        });
      },
    );
}

/** The JSON form: the snapshot plus `state` of each member and `ownerState` of each owned partition. */
export function annotate(s: StatusSnapshot, failureTimeoutMs: number) {
  return {
    ...s,
    members: s.members.map((m) => ({ ...m, state: memberState(s, m.lastHeartbeat, failureTimeoutMs) })),
    groups: s.groups.map((g) => ({
      ...g,
      partitions: g.partitions.map((p) =>
        p.owner === undefined
          ? p
          : {
              ...p,
              ownerState: ownerState(s, g.group, g.topic, p.owner, p.leaseExpiresAt, failureTimeoutMs),
            },
      ),
    })),
  };
}
