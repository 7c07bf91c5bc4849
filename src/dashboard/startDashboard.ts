import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { Backend } from '../backend/Backend.ts';
import type { Clock } from '../core/Clock.ts';
import { SluiceError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import { collectBackendMetrics } from '../metrics/backendMetrics.ts';
import { authenticate, randomToken, TOKEN_COOKIE } from './auth.ts';
import { collectStatus } from './collectStatus.ts';
import { dashboardPage } from './page.ts';
import type { StatusSource } from './StatusSource.ts';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The backend whose topics, groups, leases, members and DLQ are shown. */
  backend: Backend;
  /** TCP port; `0` (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1` (local only). */
  host?: string;
  /** Access token; a random one is generated when absent. */
  token?: string;
  /** In-process sources: supervision trees, circuit breakers, pipelines. */
  sources?: readonly StatusSource[];
  /** Topics to show besides discovered ones. */
  topics?: readonly string[];
  /** Consumer groups to show besides those discovered from partition leases. */
  groups?: readonly string[];
  /** Registry served at `/metrics`; default a dedicated one with the backend's DLQ size and the lag of `groups` × `topics`. */
  registry?: Registry;
  /** Page refresh interval in ms (default 2000). */
  refreshMs?: number;
  /** Time source of status snapshots (use the backend's clock). Default `systemClock`. */
  clock?: Clock;
}

/** A running dashboard. */
export interface Dashboard {
  /** Base URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** The access token. */
  readonly token: string;
  /** Stops the server and drops open connections. Idempotent. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  backend: z.custom<Backend>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Backend).endOffset === 'function',
    'a Backend',
  ),
  port: z
    .number()
    .int('an integer from 0 to 65535')
    .min(0, 'an integer from 0 to 65535')
    .max(65535, 'an integer from 0 to 65535')
    .optional(),
  host: z.string().min(1, 'a host name or address').optional(),
  token: z.string().min(8, 'a string of at least 8 characters').optional(),
  sources: z
    .array(z.custom<StatusSource>((v) => typeof v === 'object' && v !== null, 'a StatusSource'))
    .optional(),
  topics: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  registry: z.custom<Registry>((v) => v instanceof Registry, 'a prom-client Registry').optional(),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock',
    )
    .optional(),
  refreshMs: z.number().int('an integer >= 100').min(100, 'an integer >= 100').optional(),
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the web dashboard: one HTML page (supervision tree, partitions with owner and lag,
 * throughput chart, circuit breakers, DLQ with a Replay button per entry) and a JSON API —
 * `GET /api/status`, `GET /api/dlq?limit=&after=`, `POST /api/dlq/:id/replay`, `GET /metrics`.
 *
 * Every request needs the token: `Authorization: Bearer <token>`, or `?token=<token>` once (the
 * answer sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL without it), or
 * that cookie; otherwise 401. Listens on `127.0.0.1` unless told otherwise.
 *
 * @example
 * ```ts
 * const dash = await startDashboard({ backend, port: 7070, sources: [supervisorSource('root', sup)] });
 * console.log(`${dash.url}?token=${dash.token}`);
 * ```
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const o = validate(optionsSchema, options, 'dashboard');
  const backend = o.backend;
  const token = o.token ?? randomToken();
  const host = o.host ?? '127.0.0.1';
  const statusOptions = {
    topics: o.topics ?? [],
    groups: o.groups ?? [],
    sources: (o.sources ?? []) as StatusSource[],
    ...(o.clock ? { clock: o.clock } : {}),
  };
  let registry = o.registry;
  let stopMetrics: (() => void) | undefined;
  if (!registry) {
    registry = new Registry();
    const topics = o.topics ?? [];
    stopMetrics = collectBackendMetrics(backend, {
      registry,
      groups: (o.groups ?? []).map((group) => ({ group, topics: [...topics] })),
    });
  }
  const metricsRegistry = registry;
  const page = dashboardPage(o.refreshMs ?? 2000);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard.local');
    const how = authenticate(req, url, token);
    if (!how) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end('401 Unauthorized: open the URL with ?token=<token> or send Authorization: Bearer <token>\n');
      return;
    }
    if (how === 'query' && req.method === 'GET') {
      url.searchParams.delete('token');
      res.writeHead(303, {
        'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        location: `${url.pathname}${url.search}`,
      });
      res.end();
      return;
    }
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      });
      res.end(page);
      return;
    }
    if (req.method === 'GET' && path === '/api/status') {
      json(res, 200, await collectStatus(backend, statusOptions));
      return;
    }
    if (req.method === 'GET' && path === '/api/dlq') {
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
      const after = url.searchParams.get('after');
      const [entries, total] = await Promise.all([
        backend.dlq.list(after === null ? { limit } : { limit, after }),
        backend.dlq.count(),
      ]);
      json(res, 200, { total, entries });
      return;
    }
    const replay = /^\/api\/dlq\/([^/]+)\/replay$/.exec(path);
    if (replay && req.method === 'POST') {
      // A cookie alone is not enough for an action: the page adds this header, which a
      // cross-site form cannot send.
      if (how === 'cookie' && req.headers['x-sluice-action'] !== '1') {
        json(res, 403, { error: 'missing x-sluice-action header' });
        return;
      }
      const id = decodeURIComponent(replay[1] as string);
      const entry = await backend.dlq.get(id);
      if (!entry) {
        json(res, 404, { error: `no dead letter with id ${id}` });
        return;
      }
      const toTopic = url.searchParams.get('toTopic');
      const ids = await backend.dlq.replay({ ids: [id] }, toTopic === null ? {} : { toTopic });
      if (ids.length === 0) {
        json(res, 409, { error: 'the entry has no topic to replay to; pass ?toTopic=' });
        return;
      }
      json(res, 200, { replayed: ids });
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const body = await metricsRegistry.metrics();
      res.writeHead(200, { 'content-type': metricsRegistry.contentType });
      res.end(body);
      return;
    }
    json(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const code = e instanceof SluiceError && e.code === 'NOT_FOUND' ? 404 : 500;
      if (!res.headersSent) json(res, code, { error: e instanceof Error ? e.message : String(e) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}/`,
    token,
    close() {
      closed ??= new Promise<void>((resolve) => {
        stopMetrics?.();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
