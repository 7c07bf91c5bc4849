// metricsHandler: a node:http handler serving a prom-client registry in the Prometheus text format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * A `node:http` request handler that answers with the registry's metrics in the Prometheus text
 * format (status 500 with the error message when a collector fails).
 *
 * @example
 * ```ts
 * http.createServer(metricsHandler(registry)).listen(9464); // GET /metrics (any path)
 * ```
 */
export function metricsHandler(
  registry: Registry,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`metrics collection failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  };
}
