// `sluice dlq`: list, show, replay and purge dead letters of a backend.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { DeadLetter, DlqFilter } from '../../backend/Backend.ts';
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

function when(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

function origin(d: DeadLetter): string {
  if (d.topic === undefined) return '-';
  return `${d.topic}${d.partition === undefined ? '' : `/${d.partition}`}${d.offset === undefined ? '' : `@${d.offset}`}`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function filterFrom(opts: { id?: string[]; source?: string; topic?: string }): DlqFilter {
  const f: DlqFilter = {};
  if (opts.id && opts.id.length > 0) f.ids = opts.id;
  if (opts.source !== undefined) f.source = opts.source;
  if (opts.topic !== undefined) f.topic = opts.topic;
  return f;
}

function positiveInt(field: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw configError(field, 'an integer >= 1', raw);
  return n;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** `sluice dlq ls|show|replay|purge`: inspect and act on the dead-letter queue of a backend. */
export function register(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Inspect, replay and purge dead letters (backend from --backend or SLUICE_BACKEND)');

  dlq
    .command('ls')
    .description('List dead letters, oldest first')
    .option('-b, --backend <spec>', 'memory | sqlite:<path> | postgres://... | redis://...')
    .option('--source <source>', 'only entries from this pipeline or consumer group')
    .option('--topic <topic>', 'only entries from this topic')
    .option('-n, --limit <n>', 'at most this many entries', '100')
    .option('--after <id>', 'start after this entry id (paging)')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOpts & { source?: string; topic?: string; limit: string; after?: string }) => {
      const limit = positiveInt('--limit', opts.limit);
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        const filter: DlqFilter = { ...filterFrom(opts), limit };
        if (opts.after !== undefined) filter.after = opts.after;
        const [entries, total] = await Promise.all([
          backend.dlq.list(filter),
          backend.dlq.count(filterFrom(opts)),
        ]);
        if (opts.json) return print(JSON.stringify({ total, entries }, null, 2));
        if (entries.length === 0) return print('The dead-letter queue is empty.');
        const table = newTable([
          'id',
          'source',
          'origin',
          'key',
          'attempts',
          'deliveries',
          'last failed',
          'error',
        ]);
        for (const d of entries)
          table.push([
            d.id,
            d.source,
            origin(d),
            d.key ?? '-',
            d.attempts,
            d.deliveryCount,
            when(d.lastFailedAt),
            truncate(`${d.error.code ? `${d.error.code}: ` : ''}${d.error.message}`, 60),
          ]);
        print(table.toString());
        print(`${entries.length} of ${total} dead letter(s)`);
      });
    });

  dlq
    .command('show <id>')
    .description('Show one dead letter with its payload and error')
    .option('-b, --backend <spec>', 'backend spec')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: CommonOpts) => {
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        const d = await backend.dlq.get(id);
        if (!d) throw new SluiceError('NOT_FOUND', `No dead letter with id ${JSON.stringify(id)}`);
        if (opts.json) return print(JSON.stringify(d, null, 2));
        const table = newTable();
        table.push(
          { id: d.id },
          { source: d.source },
          { origin: origin(d) },
          { key: d.key ?? '-' },
          { attempts: String(d.attempts) },
          { deliveries: String(d.deliveryCount) },
          { 'first failed': when(d.firstFailedAt) },
          { 'last failed': when(d.lastFailedAt) },
          { error: `${d.error.code ? `${d.error.code}: ` : ''}${d.error.message}` },
        );
        print(table.toString());
        print('payload:');
        print(JSON.stringify(d.payload, null, 2));
        if (d.error.stack) print(`stack:\n${d.error.stack}`);
      });
    });

  dlq
    .command('replay')
    .description('Re-append dead letters to their topic (or --to-topic) and remove them from the DLQ')
    .option('-b, --backend <spec>', 'backend spec')
    .option('--id <id>', 'replay this entry (repeatable); default: every matching entry', collect)
    .option('--source <source>', 'only entries from this pipeline or consumer group')
    .option('--topic <topic>', 'only entries from this topic')
    .option('--to-topic <topic>', 'append to this topic instead of the original one')
    .option('--json', 'print JSON')
    .action(
      async (opts: CommonOpts & { id?: string[]; source?: string; topic?: string; toTopic?: string }) => {
        await withBackend(backendSpecFrom(opts.backend), async (backend) => {
          const filter = filterFrom(opts);
          const ids = await backend.dlq.replay(
            filter,
            opts.toTopic === undefined ? {} : { toTopic: opts.toTopic },
          );
          const left = opts.id ? opts.id.filter((i) => !ids.includes(i)) : [];
          if (left.length > 0) process.exitCode = 1;
          if (opts.json) return print(JSON.stringify({ replayed: ids, notReplayed: left }));
          print(`Replayed ${ids.length} dead letter(s)${ids.length > 0 ? `: ${ids.join(', ')}` : ''}`);
          if (left.length > 0)
            print(`Not replayed (missing, or no topic and no --to-topic): ${left.join(', ')}`);
        });
      },
    );

  dlq
    .command('purge')
    .description('Delete dead letters (all matching entries when no --id is given)')
    .option('-b, --backend <spec>', 'backend spec')
    .option('--id <id>', 'delete this entry (repeatable)', collect)
    .option('--source <source>', 'only entries from this pipeline or consumer group')
    .option('--topic <topic>', 'only entries from this topic')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOpts & { id?: string[]; source?: string; topic?: string; yes?: boolean }) => {
      await withBackend(backendSpecFrom(opts.backend), async (backend) => {
        const filter = filterFrom(opts);
        const matching = await backend.dlq.count(filter);
        if (!opts.yes && !(await confirm(`Delete ${matching} dead letter(s)?`)))
          throw new SluiceError(
            'CONFIG_INVALID',
            `Refusing to delete ${matching} dead letter(s) without confirmation: pass --yes`,
            { context: { field: '--yes' } },
          );
        const n = await backend.dlq.purge(filter);
        if (opts.json) return print(JSON.stringify({ purged: n }));
        print(`Purged ${n} dead letter(s)`);
      });
    });
}
