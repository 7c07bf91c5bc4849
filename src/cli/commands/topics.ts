// `sluice topics ls|set-retention|trim`: list topics with their retention, change it, trim now.
import type { Command } from 'commander';
import type { Retention, TopicRetentionInfo } from '../../backend/Backend.ts';
import { parseDuration } from '../../core/duration.ts';
import { configError, SluiceError } from '../../core/errors.ts';
import { backendSpecFrom, withBackend } from '../backendSpec.ts';
import { newTable } from '../tableStyle.ts';

interface CommonOpts {
  backend?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A retention in one short line, e.g. `maxEvents 1000, maxAge 1d, after billing`. */
export function describeRetention(r: Retention | null): string {
  if (r === null) return 'keep all';
  const parts: string[] = [];
  if (r.maxEvents !== undefined) parts.push(`maxEvents ${r.maxEvents}`);
  if (r.maxAge !== undefined) parts.push(`maxAge ${r.maxAge}ms`);
  if (r.afterCommittedBy !== undefined && r.afterCommittedBy.length > 0)
    parts.push(`after ${r.afterCommittedBy.join(',')}`);
  return parts.length === 0 ? 'keep all' : parts.join(', ');
}

function stored(t: TopicRetentionInfo): number {
  return t.offsets.reduce((n, o) => n + (o.end - o.first), 0);
}

function retentionFrom(opts: {
  maxAge?: string;
  maxEvents?: string;
  afterCommittedBy?: string[];
}): Retention {
  const r: { -readonly [K in keyof Retention]: Retention[K] } = {};
  if (opts.maxAge !== undefined) r.maxAge = parseDuration(opts.maxAge, '--max-age');
  if (opts.maxEvents !== undefined) {
    const n = Number(opts.maxEvents);
    if (!Number.isInteger(n) || n < 1) throw configError('--max-events', 'an integer >= 1', opts.maxEvents);
    r.maxEvents = n;
  }
  if (opts.afterCommittedBy !== undefined) r.afterCommittedBy = opts.afterCommittedBy;
  return r;
}

/** `sluice topics ls|set-retention|trim`: retention of the topics of a backend. */
export function register(program: Command): void {
  const topics = program
    .command('topics')
    .description('List topics, set their retention and trim them (backend from --backend or SLUICE_BACKEND)');

  topics
    .command('ls')
    .description('List topics with partitions, retention and stored offsets')
    .option('-b, --backend <spec>', 'memory | sqlite:<path> | postgres://... | redis://...')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOpts) => {
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        const list = await backend.retention.list();
        if (opts.json) return print(JSON.stringify(list, null, 2));
        if (list.length === 0) return print('No topics.');
        const table = newTable([
          'topic',
          'partitions',
          'retention',
          'stored events',
          'first..end per partition',
        ]);
        for (const t of list)
          table.push([
            t.topic,
            t.partitions,
            describeRetention(t.retention),
            stored(t),
            t.offsets.map((o) => `${o.first}..${o.end}`).join(' '),
          ]);
        print(table.toString());
      });
    });

  topics
    .command('set-retention <topic>')
    .description('Set (or with --clear remove) the retention of a topic')
    .option('-b, --backend <spec>', 'backend spec')
    .option('--max-age <duration>', 'remove events older than this ("7d", "12h", ms)')
    .option('--max-events <n>', 'keep at most this many newest events per partition')
    .option('--after-committed-by <group>', 'never trim past this group (repeatable)', collect)
    .option('--clear', 'remove the retention: keep every event')
    .option('--json', 'print JSON')
    .action(
      async (
        topic: string,
        opts: CommonOpts & {
          maxAge?: string;
          maxEvents?: string;
          afterCommittedBy?: string[];
          clear?: boolean;
        },
      ) => {
        const given =
          opts.maxAge !== undefined || opts.maxEvents !== undefined || opts.afterCommittedBy !== undefined;
        if (opts.clear && given)
          throw new SluiceError('CONFIG_INVALID', 'Pass either --clear or retention options, not both', {
            context: { field: '--clear' },
          });
        if (!opts.clear && !given)
          throw new SluiceError(
            'CONFIG_INVALID',
            'Pass --max-age, --max-events and/or --after-committed-by (or --clear)',
            { context: { field: '--max-events' } },
          );
        const retention = opts.clear ? null : retentionFrom(opts);
        await withBackend(backendSpecFrom(opts.backend), async (backend) => {
          await backend.setRetention(topic, retention);
          if (opts.json) return print(JSON.stringify({ topic, retention }));
          print(`Retention of ${topic}: ${describeRetention(retention)}`);
        });
      },
    );

  topics
    .command('trim <topic>')
    .description("Apply the topic's retention now and remove passed idempotency markers")
    .option('-b, --backend <spec>', 'backend spec')
    .option('--json', 'print JSON')
    .action(async (topic: string, opts: CommonOpts) => {
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        const r = await backend.trim(topic);
        if (opts.json) return print(JSON.stringify(r, null, 2));
        const removed = r.partitions.reduce((n, p) => n + p.removed, 0);
        print(
          `Trimmed ${topic}: ${removed} event(s) and ${r.markersRemoved} idempotency marker(s) removed; first offsets ${r.partitions.map((p) => `${p.partition}:${p.firstOffset}`).join(' ')}`,
        );
      });
    });
}
