import { hostname } from 'node:os';
import type { Command } from 'commander';
import { defineRunner, type RunnerDefinition } from '../../cluster/defineRunner.ts';
import { partitionedRunner } from '../../cluster/PartitionedRunner.ts';
import { configError } from '../../core/errors.ts';
import { backendSpecFrom, openBackend } from '../backendSpec.ts';
import { loadUserModule } from '../loadModule.ts';

/** Options of `sluice runner`. */
interface RunnerCommandOptions {
  backend?: string;
  node?: string;
  fixed?: string;
  quiet?: boolean;
}

/** Loads a module whose default export is `defineRunner({...})`. */
export async function loadRunnerDefinition(file: string): Promise<RunnerDefinition> {
  const mod = await loadUserModule(file);
  const def = (mod.default ?? mod.runner) as RunnerDefinition | undefined;
  if (def === undefined || typeof def !== 'object') {
    throw configError('runner', `a module with a default export from defineRunner() (${file})`, def);
  }
  return defineRunner(def);
}

function parseFixed(value: string): { index: number; total: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || total < 1 || index >= total)
    throw configError('--fixed', '"<index>/<total>" with index < total', value);
  return { index, total };
}

/**
 * `sluice runner <module>`: runs one partitioned runner of a `defineRunner` module until
 * SIGTERM/SIGINT, then stops gracefully (in-flight batches commit, leases are released). Run one
 * per process or machine against the same backend; they share the topic's partitions. Sends an
 * IPC message `{type: 'ready'}` to its parent (when it has one) once started.
 */
export function register(program: Command): void {
  program
    .command('runner')
    .description(
      "Run one partitioned runner of a defineRunner module; shares the topic's partitions with the others",
    )
    .argument('<module>', 'module whose default export is defineRunner({...})')
    .option(
      '-b, --backend <spec>',
      'memory | sqlite:<path> | postgres://... | redis://... (env SLUICE_BACKEND)',
    )
    .option('--node <name>', 'runner name, unique in the group (default <host>-<pid>)')
    .option('--fixed <index/total>', 'fixed mode: own partitions p with p % total === index, no leases')
    .option('-q, --quiet', 'do not print partition events')
    .action(async (file: string, opts: RunnerCommandOptions) => {
      const { setup, teardown, ...def } = await loadRunnerDefinition(file);
      const backend = await openBackend(backendSpecFrom(opts.backend));
      const nodeName = opts.node ?? `${hostname()}-${process.pid}`;
      const runner = partitionedRunner({
        ...def,
        ...(opts.fixed === undefined ? {} : { fixed: parseFixed(opts.fixed) }),
        backend,
        nodeName,
      });
      if (!opts.quiet) {
        const log = (line: string) => process.stdout.write(`${nodeName}: ${line}\n`);
        runner.on('partition_acquired', (e) =>
          log(`acquired ${e.partition} at ${e.offset} (token ${e.fencingToken})`),
        );
        runner.on('partition_released', (e) => log(`released ${e.partition} at ${e.offset}`));
        runner.on('partition_lost', (e) => log(`lost ${e.partition} (${e.reason})`));
      }
      runner.on('error', (e) => {
        const err = e.error as { code?: string; message?: string };
        process.stderr.write(
          `${nodeName}: ${e.during}${e.partition === undefined ? '' : ` p${e.partition}`}: ${err?.code ?? ''} ${err?.message ?? String(e.error)}\n`,
        );
      });
      const stopped = new Promise<void>((resolve) => {
        const onSignal = () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      try {
        await setup?.(runner, { backend, nodeName });
        await runner.start();
        if (process.send !== undefined && process.connected) process.send({ type: 'ready', node: nodeName });
        await stopped;
        await runner.stop();
      } finally {
        await runner.stop();
        await teardown?.();
        await backend.close();
        if (process.connected) process.disconnect();
      }
    });
}
