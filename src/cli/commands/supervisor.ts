// `sluice supervisor <module>`: one DistributedSupervisor node process, with ops ports, a bounded drain and exit codes.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Cluster } from '../../cluster/supervisor/Cluster.ts';
import { DistributedSupervisor } from '../../cluster/supervisor/DistributedSupervisor.ts';
import {
  defineSupervisorNode,
  type SupervisorNodeDefinition,
} from '../../cluster/supervisor/defineSupervisorNode.ts';
import { supervisorReadiness } from '../../cluster/supervisor/supervisorReadiness.ts';
import { parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import { instrumentDistributedSupervisor } from '../../metrics/supervisorMetrics.ts';
import { backendSpecFrom, openBackend } from '../backendSpec.ts';
import { describeDrain, drainOnSignal } from '../drain.ts';
import { loadUserModule } from '../loadModule.ts';
import { addOpsOptions, type OpsPortOptions, processRegistry, startOpsServers } from '../opsPorts.ts';

/** Options of `sluice supervisor`. */
interface SupervisorCommandOptions extends OpsPortOptions {
  backend?: string;
  node?: string;
  drainTimeout?: string;
  quiet?: boolean;
}

const SUPERVISOR_HELP = `
Signals: SIGTERM or SIGINT closes this node: it stops its children gracefully, they move to the
other nodes, and the node leaves. A second signal stops it at once (its placements then expire
after failureTimeout and the children restart elsewhere).

Exit codes: 0 left cleanly, 1 error, 2 usage error, 3 drain timeout (--drain-timeout),
130/143 second SIGINT/SIGTERM. /readyz is 200 once the node has joined and a leader is known.
`;

/** Loads a module whose default export is `defineSupervisorNode({...})`. */
async function loadSupervisorDefinition(file: string): Promise<SupervisorNodeDefinition> {
  const mod = await loadUserModule(file);
  const def = (mod.default ?? mod.supervisor) as SupervisorNodeDefinition | undefined;
  if (def === undefined || typeof def !== 'object') {
    throw configError(
      'supervisor',
      `a module with a default export from defineSupervisorNode() (${file})`,
      def,
    );
  }
  return defineSupervisorNode(def);
}

async function runNode(file: string, opts: SupervisorCommandOptions): Promise<number> {
  const { heartbeat, failureTimeout, meta, ...def } = await loadSupervisorDefinition(file);
  const drainMs = parseDuration(opts.drainTimeout ?? '30s', '--drain-timeout');
  const nodeName = opts.node ?? `${hostname()}-${process.pid}`;
  const backend = await openBackend(backendSpecFrom(opts.backend));
  const say = (line: string) => process.stderr.write(`${nodeName}: ${line}\n`);
  let cluster: Cluster | undefined;
  let sup: DistributedSupervisor | undefined;
  let ops: Awaited<ReturnType<typeof startOpsServers>> | undefined;
  try {
    cluster = await Cluster.start({
      nodeName,
      backend,
      ...(heartbeat === undefined ? {} : { heartbeat }),
      ...(failureTimeout === undefined ? {} : { failureTimeout }),
      ...(meta === undefined ? {} : { meta }),
    });
    sup = await DistributedSupervisor.start({
      ...def,
      cluster,
      ...(opts.quiet ? {} : { onLifecycleEvent: (e) => say(`${e.type} ${JSON.stringify(e)}`) }),
    });
    const registry = processRegistry();
    instrumentDistributedSupervisor(sup, { registry, name: def.name, node: nodeName });
    ops = await startOpsServers(opts, registry, supervisorReadiness(sup, nodeName));
    for (const s of ops.servers) say(`ops server on ${s.url}`);
    if (process.send !== undefined && process.connected) process.send({ type: 'ready', node: nodeName });
  } catch (e) {
    await sup?.close().catch(() => {});
    await cluster?.close().catch(() => {});
    await ops?.close();
    await backend.close();
    throw e;
  }
  const s = sup;
  const c = cluster;
  const outcome = await drainOnSignal({
    stop: async () => {
      await s.close();
      await c.close();
    },
    timeoutMs: drainMs,
    log: say,
    until: s.done,
  });
  say(describeDrain(outcome));
  await ops.close();
  if (outcome.kind === 'forced' || outcome.kind === 'timeout') return outcome.code;
  await backend.close();
  const failed = await s.done.then(
    () => false,
    () => true,
  );
  return failed ? 1 : outcome.code;
}

/**
 * `sluice supervisor <module>`: runs one node of the DistributedSupervisor declared by a
 * `defineSupervisorNode` module until SIGTERM/SIGINT, then closes it within `--drain-timeout`
 * (its children move to the other nodes) and exits with a documented code.
 */
export function register(program: Command): void {
  const command = program
    .command('supervisor')
    .description('Run one node of a DistributedSupervisor declared by a defineSupervisorNode module')
    .argument('<module>', 'module whose default export is defineSupervisorNode({...})')
    .option('-b, --backend <spec>', 'sqlite:<path> | postgres://... | redis://... (env SLUICE_BACKEND)')
    .option('--node <name>', 'node name, unique in the cluster (default <host>-<pid>)')
    .option('--drain-timeout <duration>', 'on SIGTERM/SIGINT, how long the children may take to stop', '30s')
    .option('-q, --quiet', 'do not print lifecycle events');
  addOpsOptions(command)
    .addHelpText('after', SUPERVISOR_HELP)
    .action(async (file: string, opts: SupervisorCommandOptions) => {
      const code = await runNode(file, opts);
      if (process.connected) process.disconnect();
      process.exit(code);
    });
}
