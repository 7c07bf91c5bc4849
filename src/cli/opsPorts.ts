// The --metrics-port / --health-port / --ops-host options of long-running commands, and their servers.
import type { Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { configError } from '../core/errors.ts';
import { type OpsServer, type Readiness, startOpsServer } from '../metrics/opsServer.ts';

/** The parsed ops options of a command. */
export interface OpsPortOptions {
  metricsPort?: string;
  healthPort?: string;
  opsHost?: string;
}

/** Adds `--metrics-port`, `--health-port` and `--ops-host` to `command`. */
export function addOpsOptions(command: Command): Command {
  return command
    .option('--metrics-port <port>', 'serve Prometheus metrics on http://<ops-host>:<port>/metrics')
    .option(
      '--health-port <port>',
      'serve /livez (event loop alive) and /readyz (holds its share or settled) on this port (may equal --metrics-port)',
    )
    .option(
      '--ops-host <address>',
      'interface of the metrics and health ports (0.0.0.0 for probes from outside)',
      '127.0.0.1',
    );
}

function parsePort(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw configError(field, 'a port number from 0 to 65535', value);
  return Number(value);
}

/** The ports asked for, validated (`CONFIG_INVALID` naming the flag). */
export function opsPorts(opts: OpsPortOptions): { metrics: number | undefined; health: number | undefined } {
  return {
    metrics: parsePort('--metrics-port', opts.metricsPort),
    health: parsePort('--health-port', opts.healthPort),
  };
}

/** A registry with the process metrics (`process_*`, `nodejs_*`) of prom-client. */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Starts the servers asked for (one when both ports are equal); their `close()` closes them all. */
export async function startOpsServers(
  opts: OpsPortOptions,
  registry: Registry,
  readiness: () => Readiness,
): Promise<{ servers: OpsServer[]; close(): Promise<void> }> {
  const ports = opsPorts(opts);
  const host = opts.opsHost ?? '127.0.0.1';
  const servers: OpsServer[] = [];
  try {
    if (ports.metrics !== undefined && ports.metrics === ports.health) {
      servers.push(await startOpsServer({ port: ports.metrics, host, registry, readiness }));
    } else {
      if (ports.metrics !== undefined)
        servers.push(await startOpsServer({ port: ports.metrics, host, registry }));
      if (ports.health !== undefined)
        servers.push(await startOpsServer({ port: ports.health, host, readiness }));
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    throw e;
  }
  return { servers, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}
