// `sluice dashboard`: serves the web dashboard over a backend on localhost until interrupted.
import type { Command } from 'commander';
import { configError } from '../../core/errors.ts';
import { startDashboard } from '../../dashboard/startDashboard.ts';
import { backendSpecFrom, openBackend } from '../backendSpec.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `sluice dashboard`: serves the web dashboard over a backend until interrupted. */
export function register(program: Command): void {
  program
    .command('dashboard')
    .description('Serve the web dashboard (partitions and lag, throughput, DLQ with replay) on localhost')
    .option(
      '-b, --backend <spec>',
      'memory | sqlite:<path> | postgres://... | redis://... (default SLUICE_BACKEND or sqlite)',
    )
    .option('-p, --port <port>', 'TCP port (0 picks a free one)', '7070')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--token <token>', 'access token (env SLUICE_DASHBOARD_TOKEN; random when absent)')
    .option('-t, --topic <topic>', 'show this topic (repeatable)', collect)
    .option('-g, --group <group>', 'show this consumer group (repeatable)', collect)
    .action(
      async (opts: {
        backend?: string;
        port: string;
        host: string;
        token?: string;
        topic?: string[];
        group?: string[];
      }) => {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw configError('--port', 'an integer from 0 to 65535', opts.port);
        const backend = await openBackend(backendSpecFrom(opts.backend));
        const token = opts.token ?? process.env.SLUICE_DASHBOARD_TOKEN;
        const dash = await startDashboard({
          backend,
          port,
          host: opts.host,
          topics: opts.topic ?? [],
          groups: opts.group ?? [],
          ...(token === undefined ? {} : { token }),
        }).catch(async (e: unknown) => {
          await backend.close();
          throw e;
        });
        process.stdout.write(
          `Sluice dashboard (${backend.kind}) at ${dash.url}?token=${encodeURIComponent(dash.token)}\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await dash.close();
        await backend.close();
      },
    );
}
