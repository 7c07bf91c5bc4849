// startOpsServer: one node:http server for /metrics (prom-client), /livez (event loop) and /readyz (a readiness function).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { configError } from '../core/errors.ts';

/** What a readiness function answers: `ready` and a one-line `reason`; other fields go into the JSON body too. */
export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
}

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** TCP port; `0` picks a free one. */
  port: number;
  /** Interface to listen on (default `127.0.0.1`; `0.0.0.0` for probes from outside the host). */
  host?: string;
  /** Serves `GET /metrics` from this registry when given. */
  registry?: Registry;
  /** Serves `GET /livez` and `GET /readyz` when given (readiness is asked on each request). */
  readiness?: () => Readiness;
}

/** A running ops server. */
export interface OpsServer {
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(head ? undefined : text);
}

/**
 * Starts an HTTP server for operations:
 *
 * - `GET /metrics`: the registry in the Prometheus text format (with `registry`).
 * - `GET /livez`: 200 `{"status":"alive","eventLoopDelayMs":…}` whenever the event loop runs
 *   (a blocked loop does not answer, so the probe times out) — with `readiness`.
 * - `GET /readyz`: 200 `{"status":"ready","reason":…}` or 503 `{"status":"not_ready","reason":…}`
 *   from `readiness()` — with `readiness`.
 *
 * Other paths answer 404, other methods 405. Give the same server both, or start two on two ports.
 *
 * @example
 * ```ts
 * const ops = await startOpsServer({ port: 9464, registry, readiness: () => ({ ready: true, reason: 'ok' }) });
 * await ops.close();
 * ```
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { port, registry, readiness } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw configError('port', 'an integer from 0 to 65535', port);
  const host = options.host ?? '127.0.0.1';
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    const known =
      (path === '/metrics' && registry !== undefined) ||
      ((path === '/livez' || path === '/readyz') && readiness !== undefined);
    if (!known) return json(res, 404, { status: 'not_found', path }, head);
    if (req.method !== 'GET' && !head) {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return res.end();
    }
    if (path === '/metrics' && registry !== undefined) {
      try {
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        return res.end(head ? undefined : body);
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`metrics collection failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    if (path === '/livez') {
      const eventLoopDelayMs = Math.round(delay.percentile(99) / 1e4) / 100;
      delay.reset();
      return json(res, 200, { status: 'alive', eventLoopDelayMs }, head);
    }
    let r: Readiness;
    try {
      r = readiness!();
    } catch (e) {
      r = { ready: false, reason: `readiness check failed: ${e instanceof Error ? e.message : String(e)}` };
    }
    const { ready, ...rest } = r;
    return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', ...rest }, head);
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        delay.disable();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
