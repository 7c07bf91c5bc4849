// `sluice scale <module>`: record a desired runner count, wait for it, or serve a local fleet that follows it.
import type { Command } from 'commander';
import type { Backend } from '../../backend/Backend.ts';
import {
  DesiredReplicasReader,
  fleetName,
  setDesiredReplicas,
} from '../../cluster/runner/desiredReplicas.ts';
import { servingFleets } from '../../cluster/runner/fleetPresence.ts';
import { partitionLeaseName, runnerMemberPrefix } from '../../cluster/runner/PartitionedRunner.ts';
import { RunnerFleet } from '../../cluster/runner/RunnerFleet.ts';
import { parseDuration } from '../../core/duration.ts';
import { configError, SluiceError } from '../../core/errors.ts';
import { childFromProcess } from '../../supervision/childFromProcess.ts';
import { backendSpecFrom, openBackend } from '../backendSpec.ts';
import { RELEASE_GRACE_MS } from '../drain.ts';
import { loadRunnerDefinition } from './runner.ts';

/** Options of `sluice scale`. */
interface ScaleCommandOptions {
  backend?: string;
  to?: string;
  serve?: boolean;
  wait?: boolean;
  timeout?: string;
  prefix?: string;
}

/** Live runners of a group and the partitions each holds. */
export interface FleetView {
  readonly runners: string[];
  readonly held: Map<string, number[]>;
  readonly partitions: number;
}

/** Reads the live runners of `group`/`topic` and their partition leases. */
export async function viewFleet(
  backend: Backend,
  group: string,
  topic: string,
  failureTimeoutMs: number,
): Promise<FleetView> {
  const prefix = runnerMemberPrefix(group, topic);
  const runners = (await backend.membership.members(failureTimeoutMs))
    .filter((m) => m.node.startsWith(prefix))
    .map((m) => m.node.slice(prefix.length));
  const partitions = (await backend.topicInfo(topic))?.partitions ?? 0;
  const held = new Map<string, number[]>(runners.map((r) => [r, []]));
  for (const lease of await backend.leases.list(`${group}/${topic}/`)) {
    const p = Number(lease.name.slice(`${group}/${topic}/`.length));
    if (lease.name !== partitionLeaseName(group, topic, p)) continue;
    const node = lease.owner.split('#')[0] ?? '';
    held.get(node)?.push(p);
  }
  return { runners, held, partitions };
}

/** True when exactly `n` runners are live and they hold every partition, each a fair share. */
export function fleetSettled(view: FleetView, n: number): boolean {
  if (view.runners.length !== n) return false;
  if (n === 0) return true;
  const lo = Math.floor(view.partitions / n);
  const hi = Math.ceil(view.partitions / n);
  let total = 0;
  for (const r of view.runners) {
    const k = view.held.get(r)?.length ?? 0;
    if (k < lo || k > hi) return false;
    total += k;
  }
  return total === view.partitions;
}

/**
 * `--wait` with nobody acting on the desired count would only time out: refused at once with
 * `NO_FLEET` when no `sluice scale --serve` fleet of `fleet` heartbeats (see `servingFleets`).
 */
async function refuseWithoutFleet(
  backend: Backend,
  fleet: string,
  to: number,
  view: FleetView,
): Promise<void> {
  if ((await servingFleets(backend, fleet)).length > 0) return;
  throw new SluiceError(
    'NO_FLEET',
    `no fleet serves ${fleet}: the desired count ${to} is recorded, but only \`sluice scale <module> --serve\` acts on it (${view.runners.length} runners live); start a fleet, or start or stop runners yourself`,
    { context: { fleet, to, live: view.runners.length } },
  );
}

function describe(view: FleetView): string {
  if (view.runners.length === 0) return '  no live runners\n';
  return view.runners.map((r) => `  ${r}: partitions ${view.held.get(r)?.join(',') || '-'}\n`).join('');
}

/**
 * `sluice scale <module>`: changes how many runner processes of a `defineRunner` module run.
 *
 * - `--to N` records the desired count in the backend (an event in the `sluice.scale` topic). It
 *   starts nothing by itself: a fleet served by `--serve` (here or on another machine) acts on
 *   it. With `--wait` it then waits until exactly N runners are live and hold all partitions,
 *   and fails at once (`NO_FLEET`) when no fleet serves the group.
 * - `--serve` runs a local fleet: it starts `sluice runner <module>` processes under a supervisor
 *   (crashed ones are restarted) and follows the desired count — more processes are started,
 *   surplus ones are stopped gracefully so their partitions move without losing or re-running
 *   committed work. With `--to`, the count is recorded first.
 * - Neither: prints the desired count and the live runners.
 */
export function register(program: Command): void {
  program
    .command('scale')
    .description('Set how many runner processes of a defineRunner module run, or serve a local fleet')
    .argument('<module>', 'module whose default export is defineRunner({...})')
    .option(
      '-b, --backend <spec>',
      'memory | sqlite:<path> | postgres://... | redis://... (env SLUICE_BACKEND)',
    )
    .option('--to <n>', 'record the desired number of runner processes (a --serve fleet acts on it)')
    .option('--serve', 'run a local fleet of runner processes that follows the desired count')
    .option(
      '--wait',
      'with --to: wait until that many runners are live and hold all partitions (fails at once when no fleet serves the group)',
    )
    .option('--timeout <duration>', 'with --wait: give up after this long (exit code 1)', '60s')
    .option('--prefix <name>', 'with --serve: runner names are <prefix>-<n> (default: host name)')
    .addHelpText(
      'after',
      `
--to N only records a desired count in the backend (topic sluice.scale). Runner processes are
started and stopped by a fleet: \`sluice scale <module> --serve\` (run it once per machine that
should host runners; each serving fleet heartbeats, so --wait knows whether one is listening).
Runners you start yourself with \`sluice runner\` are not scaled by it: with no fleet serving the
group, --to N --wait fails at once with NO_FLEET instead of waiting for --timeout.
`,
    )
    .action(async (file: string, opts: ScaleCommandOptions) => {
      const def = await loadRunnerDefinition(file);
      const spec = backendSpecFrom(opts.backend);
      const fleet = fleetName(def.group, def.topic);
      const failureTimeoutMs = parseDuration(def.failureTimeout ?? '5s', 'failureTimeout');
      let to: number | undefined;
      if (opts.to !== undefined) {
        to = Number(opts.to);
        if (!/^\d+$/.test(opts.to)) throw configError('--to', 'an integer >= 0', opts.to);
      }
      const backend = await openBackend(spec);
      try {
        if (to !== undefined) {
          await setDesiredReplicas(backend, fleet, to);
          process.stdout.write(`${fleet}: desired runners = ${to}\n`);
        }
        if (opts.serve) {
          await serve(
            backend,
            spec,
            file,
            fleet,
            opts,
            parseDuration(def.shutdownTimeout ?? '30s', 'shutdownTimeout'),
          );
          return;
        }
        if (to !== undefined && opts.wait) {
          const timeoutMs = parseDuration(opts.timeout ?? '60s', '--timeout');
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const view = await viewFleet(backend, def.group, def.topic, failureTimeoutMs);
            if (fleetSettled(view, to)) {
              process.stdout.write(`${fleet}: ${to} runners live\n${describe(view)}`);
              return;
            }
            await refuseWithoutFleet(backend, fleet, to, view);
            if (Date.now() > deadline) {
              process.stdout.write(describe(view));
              throw new SluiceError(
                'TIMEOUT',
                `${fleet} did not reach ${to} runners within ${opts.timeout}`,
                {
                  context: { fleet, to, live: view.runners.length },
                },
              );
            }
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        if (to === undefined) {
          const desired = await new DesiredReplicasReader(backend, fleet).read();
          const view = await viewFleet(backend, def.group, def.topic, failureTimeoutMs);
          process.stdout.write(
            `${fleet}: desired ${desired?.replicas ?? 'not set'}, live ${view.runners.length}\n${describe(view)}`,
          );
        }
      } finally {
        await backend.close();
      }
    });
}

/** Starts the fleet; a runner stopped by it gets its drain timeout plus the release grace before SIGKILL. */
async function serve(
  backend: Backend,
  spec: string,
  file: string,
  fleet: string,
  opts: ScaleCommandOptions,
  drainMs: number,
) {
  const cli = process.argv[1];
  if (cli === undefined)
    throw new SluiceError('INVALID_STATE', 'cannot find the sluice command to start runners');
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const runners = await RunnerFleet.start({
      backend,
      fleet,
      signal: ac.signal,
      shutdownTimeout: drainMs + RELEASE_GRACE_MS + 5000,
      ...(opts.prefix === undefined ? {} : { nodeNamePrefix: opts.prefix }),
      child: (node) =>
        childFromProcess(
          process.execPath,
          [...process.execArgv, cli, 'runner', file, '--backend', spec, '--node', node, '--quiet'],
          { readyOn: 'message', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
        ),
    });
    runners.on('scaled', (e) =>
      process.stdout.write(`${fleet}: ${e.from} -> ${e.to} runners (${e.nodes.join(', ')})\n`),
    );
    runners.children.on('child_crashed', (e) => {
      const err = e.error as { message?: string };
      process.stderr.write(`${fleet}: runner ${e.id} crashed (${err?.message ?? String(e.error)})\n`);
    });
    runners.children.on('child_restarted', (e) =>
      process.stderr.write(
        `${fleet}: restarted runner ${e.id} (restart ${e.restarts}, attempt ${e.attempt})\n`,
      ),
    );
    runners.on('error', (e) => {
      const err = e.error as { message?: string };
      process.stderr.write(`${fleet}: ${err?.message ?? String(e.error)}\n`);
    });
    process.stdout.write(
      `${fleet}: serving ${runners.nodes().length} runners (${runners.nodes().join(', ')})\n`,
    );
    if (process.send !== undefined && process.connected) process.send({ type: 'ready' });
    await runners.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
