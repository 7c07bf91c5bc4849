// `sluice runner <module>`: one partitioned runner process, with ops ports, a bounded drain and exit codes.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Backend } from '../../backend/Backend.ts';
import { defineRunner, type RunnerDefinition } from '../../cluster/runner/defineRunner.ts';
import { partitionedRunner } from '../../cluster/runner/PartitionedRunner.ts';
import { runnerReadiness } from '../../cluster/runner/runnerReadiness.ts';
import type { Runner } from '../../cluster/runner/runnerTypes.ts';
import { parseDuration } from '../../core/duration.ts';
import { configError, SluiceError } from '../../core/errors.ts';
import { runnerMetrics } from '../../metrics/runnerMetrics.ts';
import { backendSpecFrom, openBackend } from '../backendSpec.ts';
import { describeDrain, drainOnSignal } from '../drain.ts';
import { loadUserModule } from '../loadModule.ts';
import {
  addOpsOptions,
  type OpsPortOptions,
  opsPorts,
  processRegistry,
  startOpsServers,
} from '../opsPorts.ts';

/** Options of `sluice runner`. */
interface RunnerCommandOptions extends OpsPortOptions {
  backend?: string;
  drainTimeout?: string;
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

/**
 * A topic's partition count is fixed when it is created; a runner module declaring another count
 * would route keys and assign partitions for a topic that does not exist. Refused with
 * `CONFIG_INVALID` naming both numbers.
 */
export async function refusePartitionMismatch(
  backend: Backend,
  def: { topic: string; partitions?: number | undefined },
): Promise<void> {
  if (def.partitions === undefined) return;
  const info = await backend.topicInfo(def.topic);
  if (info !== undefined && info.partitions !== def.partitions) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `Expected \`partitions\` to be ${info.partitions}, the partition count of topic "${def.topic}" (fixed when it was created), got ${def.partitions}`,
      {
        context: { field: 'partitions', topic: def.topic, got: def.partitions, partitions: info.partitions },
      },
    );
  }
}

function parseFixed(value: string): { index: number; total: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || total < 1 || index >= total)
    throw configError('--fixed', '"<index>/<total>" with index < total', value);
  return { index, total };
}

/** Help text after the options of `sluice runner`: signals, exit codes, ports. */
const RUNNER_HELP = `
Signals: SIGTERM or SIGINT drains the runner: it takes no new events, finishes and commits its
in-flight batches, releases its partitions (other runners take them over at once) and leaves the
group. A second signal stops it at once (its leases then expire after their TTL).

Exit codes:
  0    stopped cleanly (drained)
  1    error (the message names its code, e.g. CONFIG_INVALID, BACKEND_UNAVAILABLE)
  2    command-line usage error (unknown option, missing argument)
  3    drain timeout: in-flight work did not finish within --drain-timeout (the next owner re-runs it)
  130  second SIGINT during the drain (128 + 2)
  143  second SIGTERM during the drain (128 + 15)

Ports (off unless given): --metrics-port serves /metrics (Prometheus), --health-port serves
/livez (200 while the event loop runs) and /readyz (200 once the runner holds every partition
the group assigned it, 503 with a JSON reason while joining, waiting for a handover or draining).
`;

/** Starts the runner's ops servers, sets it up and runs it until a signal; returns the exit code. */
async function runUntilSignal(file: string, opts: RunnerCommandOptions): Promise<number> {
  const { setup, teardown, ...def } = await loadRunnerDefinition(file);
  const ports = opsPorts(opts);
  const drainMs = parseDuration(opts.drainTimeout ?? def.shutdownTimeout ?? '30s', '--drain-timeout');
  const raw = await openBackend(backendSpecFrom(opts.backend));
  await refusePartitionMismatch(raw, def).catch(async (e: unknown) => {
    await raw.close();
    throw e;
  });
  const nodeName = opts.node ?? `${hostname()}-${process.pid}`;
  const registry = processRegistry();
  const metrics = runnerMetrics({ registry, group: def.group, topic: def.topic, node: nodeName });
  const backend = ports.metrics === undefined ? raw : metrics.observe(raw);
  const fixed = opts.fixed === undefined ? undefined : parseFixed(opts.fixed);
  const runner = partitionedRunner({
    ...def,
    ...(fixed === undefined ? {} : { fixed }),
    shutdownTimeout: drainMs,
    backend,
    nodeName,
  });
  metrics.instrument(runner);
  const readiness = runnerReadiness(runner, { fixed: fixed !== undefined });
  const say = (line: string) => process.stderr.write(`${nodeName}: ${line}\n`);
  if (!opts.quiet) logRunnerEvents(runner, nodeName);
  runner.on('error', (e) => {
    const err = e.error as { code?: string; message?: string };
    say(
      `${e.during}${e.partition === undefined ? '' : ` p${e.partition}`}: ${err?.code ?? ''} ${err?.message ?? String(e.error)}`,
    );
  });
  let ops: Awaited<ReturnType<typeof startOpsServers>> | undefined;
  try {
    ops = await startOpsServers(opts, registry, readiness);
    for (const s of ops.servers) say(`ops server on ${s.url}`);
    await setup?.(runner, { backend, nodeName });
    await runner.start();
    if (process.send !== undefined && process.connected) process.send({ type: 'ready', node: nodeName });
  } catch (e) {
    await runner.stop().catch(() => {});
    await ops?.close();
    await teardown?.();
    await backend.close();
    throw e;
  }
  const outcome = await drainOnSignal({ stop: () => runner.stop(), timeoutMs: drainMs, log: say });
  say(describeDrain(outcome));
  await ops.close();
  if (outcome.kind === 'forced' || outcome.kind === 'timeout') return outcome.code;
  await teardown?.();
  await backend.close();
  return outcome.code;
}

function logRunnerEvents(runner: Runner, nodeName: string): void {
  const log = (line: string) => process.stdout.write(`${nodeName}: ${line}\n`);
  runner.on('partition_acquired', (e) =>
    log(`acquired ${e.partition} at ${e.offset} (token ${e.fencingToken})`),
  );
  runner.on('partition_released', (e) => log(`released ${e.partition} at ${e.offset}`));
  runner.on('partition_lost', (e) => log(`lost ${e.partition} (${e.reason})`));
}

/**
 * `sluice runner <module>`: runs one partitioned runner of a `defineRunner` module until
 * SIGTERM/SIGINT, then drains within `--drain-timeout` (in-flight batches commit, leases are
 * released) and exits with a documented code (see the help). Run one per process or machine
 * against the same backend; they share the topic's partitions. Sends an IPC message
 * `{type: 'ready'}` to its parent (when it has one) once started.
 */
export function register(program: Command): void {
  const command = program
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
    .option(
      '--drain-timeout <duration>',
      "on SIGTERM/SIGINT, how long in-flight batches may take (default: the module's shutdownTimeout, else 30s)",
    )
    .option('-q, --quiet', 'do not print partition events');
  addOpsOptions(command)
    .addHelpText('after', RUNNER_HELP)
    .action(async (file: string, opts: RunnerCommandOptions) => {
      const code = await runUntilSignal(file, opts);
      if (process.connected) process.disconnect();
      process.exit(code);
    });
}
