// startHealthServer: the HTTP probe server for liveness (/healthz) and readiness (/readyz, timed checks).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { validate } from '../../core/validate.ts';
import { clockSchema, fnSchema } from '../../resilience/options.ts';
import { durationSchema } from '../options.ts';

/** A readiness check: resolves `true` when the dependency is usable. Throwing counts as `false`. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** TCP port; `0` picks a free one (see {@link HealthServer.port}). */
  port: number;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Readiness checks by name, run concurrently on each `/readyz`. */
  checks?: Record<string, ReadinessCheck>;
  /** Time a check may take before it counts as failed. Default `'2s'`. */
  timeout?: Duration;
  /** Time source for timeouts and durations. Default `systemClock`. */
  clock?: Clock;
}

/** Result of one check in a `/readyz` body. */
export interface CheckResult {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

/** A running health server. */
export interface HealthServer {
  /** The port listened on. */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** While draining, `/readyz` answers 503 `{"status":"draining"}` (liveness stays 200). */
  setDraining(draining: boolean): void;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  port: z.number().int('an integer between 0 and 65535').min(0).max(65_535),
  host: z.string().min(1, 'a non-empty host').optional(),
  checks: z.record(z.string(), fnSchema<ReadinessCheck>('a function returning a boolean')).optional(),
  timeout: durationSchema.optional(),
  clock: clockSchema.optional(),
});

/**
 * Starts an HTTP server (node:http) for orchestrators' probes:
 * - `GET /healthz` — liveness: 200 `{"status":"ok"}` while the process serves requests;
 * - `GET /readyz` — readiness: runs every check concurrently (each bounded by `timeout`);
 *   200 `{"status":"ready","checks":{...}}` when all pass, else 503 `{"status":"not_ready",...}`.
 *
 * Other paths answer 404, other methods 405; `HEAD` is accepted. Listens on 127.0.0.1 unless
 * told otherwise.
 *
 * @example
 * ```ts
 * const health = await startHealthServer({
 *   port: 8080,
 *   checks: { backend: async () => (await backend.membership.members(5000)).length > 0 },
 * });
 * // curl http://127.0.0.1:8080/readyz
 * await health.close();
 * ```
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const opts = validate(optionsSchema, options, 'startHealthServer');
  const host = opts.host ?? '127.0.0.1';
  const checks = Object.entries(opts.checks ?? {});
  const timeoutMs = parseDuration(opts.timeout ?? '2s', 'startHealthServer.timeout');
  const clock = opts.clock ?? systemClock;
  let draining = false;

  async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
    const started = clock.now();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    try {
      const ok = await Promise.race([
        Promise.resolve().then(check),
        new Promise<never>((_, reject) => {
          timer = clock.setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
        }),
      ]);
      return ok === true
        ? { ok: true, durationMs: clock.now() - started }
        : { ok: false, durationMs: clock.now() - started, error: 'check returned false' };
    } catch (e) {
      return {
        ok: false,
        durationMs: clock.now() - started,
        error: e instanceof Error ? e.message : String(e),
      };
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/healthz' && path !== '/readyz') return send(res, req, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, req, 405, { error: 'method not allowed' });
    }
    if (path === '/healthz') return send(res, req, 200, { status: 'ok' });
    if (draining) return send(res, req, 503, { status: 'draining', checks: {} });
    const results = await Promise.all(checks.map(([, check]) => runCheck(check)));
    const body: Record<string, CheckResult> = {};
    checks.forEach(([name], i) => {
      body[name] = results[i]!;
    });
    const ready = results.every((r) => r.ok);
    return send(res, req, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks: body });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, req, 500, { error: e instanceof Error ? e.message : String(e) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    setDraining(value: boolean) {
      draining = value;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, req: IncomingMessage, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}
