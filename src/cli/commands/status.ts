import Table from 'cli-table3';
import type { Command } from 'commander';
import { configError } from '../../core/errors.ts';
import { collectStatus, type StatusSnapshot } from '../../dashboard/collectStatus.ts';
import { backendSpecFrom, withBackend } from '../backendSpec.ts';

/** Colours only on a terminal, so piped output stays plain. */
const tableStyle = () => (process.stdout.isTTY ? {} : { head: [], border: [] });

const collect = (value: string, previous: string[] = []) => [...previous, value];

function ago(at: number, then: number): string {
  const s = Math.max(0, Math.round((at - then) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

/** Renders a status snapshot as terminal tables. */
export function renderStatus(s: StatusSnapshot): string {
  const out: string[] = [`Backend: ${s.backend}    Dead letters: ${s.dlq.size}`];
  if (s.topics.length === 0) {
    out.push(
      'Topics: none known (name them with --topic, or they are discovered from leases and dead letters)',
    );
  } else {
    const t = new Table({
      style: tableStyle(),
      head: ['topic', 'partitions', 'end offsets (per partition)', 'events'],
    });
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
    const t = new Table({
      style: tableStyle(),
      head: ['group', 'topic', 'partition', 'end', 'committed', 'lag', 'owner', 'token'],
    });
    for (const g of s.groups)
      for (const p of g.partitions)
        t.push([
          g.group,
          g.topic,
          p.partition,
          p.endOffset,
          p.committed,
          p.lag,
          p.owner ?? '-',
          p.fencingToken ?? '-',
        ]);
    out.push('Consumer groups', t.toString());
  }
  if (s.members.length > 0) {
    const t = new Table({ style: tableStyle(), head: ['member', 'last heartbeat', 'joined', 'meta'] });
    for (const m of s.members)
      t.push([m.node, ago(s.at, m.lastHeartbeat), ago(s.at, m.joinedAt), JSON.stringify(m.meta)]);
    out.push('Members', t.toString());
  } else {
    out.push('Members: none alive');
  }
  const other = s.leases.filter((l) => !s.groups.some((g) => l.name.startsWith(`${g.group}/${g.topic}/`)));
  if (other.length > 0) {
    const t = new Table({ style: tableStyle(), head: ['lease', 'owner', 'token', 'expires'] });
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
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        backend?: string;
        topic?: string[];
        group?: string[];
        memberTimeout: string;
        json?: boolean;
      }) => {
        const memberTimeoutMs = Number(opts.memberTimeout);
        if (!Number.isFinite(memberTimeoutMs) || memberTimeoutMs < 0)
          throw configError('--member-timeout', 'a number of ms >= 0', opts.memberTimeout);
        await withBackend(backendSpecFrom(opts.backend), async (backend) => {
          const snapshot = await collectStatus(backend, {
            topics: opts.topic ?? [],
            groups: opts.group ?? [],
            memberTimeoutMs,
          });
          process.stdout.write(opts.json ? `${JSON.stringify(snapshot, null, 2)}\n` : renderStatus(snapshot));
        });
      },
    );
}
