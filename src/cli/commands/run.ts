// `sluice run`: runs a pipeline module once or following its topic, with checkpoints and an optional producer.
import type { Command } from 'commander';
import type { LogEvent } from '../../backend/Backend.ts';
import { configError } from '../../core/errors.ts';
import { DeadLetterQueue } from '../../dlq/DeadLetterQueue.ts';
import { definePipeline, type PipelineDefinition } from '../../pipeline/definePipeline.ts';
import { stream } from '../../pipeline/stream.ts';
import { openBackend } from '../backendSpec.ts';
import { loadUserModule } from '../loadModule.ts';

/** Options of `sluice run`. */
interface RunCommandOptions {
  backend?: string;
  follow?: boolean;
  produce?: boolean;
  checkpointEvery?: string;
  json?: boolean;
}

/**
 * `sluice run <pipeline>`: runs a pipeline module (default export from `definePipeline`) over a
 * backend topic, with checkpoints and the backend's DLQ. Run it again after a crash: it resumes
 * from the committed offsets. SIGTERM/SIGINT stop it gracefully (in-flight items finish, offsets
 * are committed).
 */
export function register(program: Command): void {
  program
    .command('run')
    .description('Run a pipeline module over a backend topic; resumes from its checkpoint after a crash')
    .argument('<pipeline>', 'module whose default export is definePipeline({...})')
    .option(
      '-b, --backend <spec>',
      'memory | sqlite:<path> | postgres://... | redis://... (env SLUICE_BACKEND)',
    )
    .option('--follow', 'keep consuming new events (unbounded)')
    .option('--produce', "run the module's produce() first")
    .option('--checkpoint-every <duration>', 'checkpoint interval, e.g. 100ms')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: RunCommandOptions) => {
      const mod = await loadUserModule(file);
      const def = (mod.default ?? mod.pipeline) as PipelineDefinition | undefined;
      if (def === undefined)
        throw configError('pipeline', 'a module with a default export from definePipeline()', file);
      definePipeline(def);
      const backend = await openBackend(
        opts.backend ?? process.env.SLUICE_BACKEND ?? 'sqlite:.sluice/sluice.db',
      );
      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        await backend.ensureTopic(def.topic, { partitions: def.partitions ?? 16 });
        if (opts.produce && def.produce) await def.produce(backend, { signal: ac.signal });
        const dlq = new DeadLetterQueue<unknown>({ store: backend, source: def.name });
        const base = stream<unknown>({
          backend,
          topic: def.topic,
          group: def.name,
          ...(opts.follow || def.follow ? { follow: true } : {}),
        }).onError((error, e: LogEvent, info) =>
          dlq.push(e.payload, error, {
            id: `${def.name}:${e.topic}:${e.partition}:${e.offset}`,
            topic: e.topic,
            partition: e.partition,
            offset: e.offset,
            attempts: info.attempts,
            ...(e.key === undefined ? {} : { key: e.key }),
          }),
        );
        const every = opts.checkpointEvery ?? def.checkpointEvery ?? '100ms';
        const report = await def.build(base).checkpoint({ every }).run({ signal: ac.signal });
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          process.stdout.write(
            `${def.name}: ${report.total} events, ${report.ok} ok, ${report.failed} dead-lettered, ${report.retries} retries, ${report.durationMs} ms${report.stopReason ? ` (${report.stopReason})` : ''}\n`,
          );
        }
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await backend.close();
      }
    });
}
