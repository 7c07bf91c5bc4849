// The dashboard web server: token auth, security headers, the page, the JSON API and /metrics.
import { randomBytes } from 'node:crypto';
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
import { bulkReplay, deadLettersOfKey } from './dlqApi.ts';
import { LagHistory } from './lagHistory.ts';
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
  /**
   * Registry served at `/metrics`; default a dedicated one with the backend's DLQ size, and the end
   * offsets, DLQ size and group lag of every discovered topic and group (plus `groups` × `topics`).
   */
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

/**
 * Headers on every response, the page, `/api/*`, `/metrics` and 401s alike: no framing, no MIME
 * sniffing, no referrer, and a CSP that allows nothing (the page's own CSP adds its nonce).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

/** The page's CSP: its one inline script and style run by nonce; no `'unsafe-inline'`. */
function pageCsp(nonce: string): string {
  return (
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
  );
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the web dashboard: one HTML page (supervision tree, partitions with owner and lag,
 * throughput chart, circuit breakers, waiting and hot keys, lag sparklines, DLQ with a Replay
 * button per entry and a key filter with bulk replay) and a JSON API — `GET /api/status`,
 * `GET /api/dlq?limit=&after=` (or `?key=`), `POST /api/dlq/:id/replay`,
 * `POST /api/dlq/replay?key=` (or `?ids=a,b`), `GET /metrics`.
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
    // Every discovered topic and group (as on the page), plus the named group × topic pairs.
    stopMetrics = collectBackendMetrics(backend, {
      registry,
      discover: true,
      groups: (o.groups ?? []).map((group) => ({ group, topics: [...topics] })),
    });
  }
  const metricsRegistry = registry;
  const refreshMs = o.refreshMs ?? 2000;
  const history = new LagHistory(refreshMs / 2);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard.local');
    const how = authenticate(req, url, token);
    if (!how) {
      res.writeHead(401, {
        ...SECURITY_HEADERS,
        'content-type': 'text/plain; charset=utf-8',
        'www-authenticate': 'Bearer',
      });
      res.end('401 Unauthorized: open the URL with ?token=<token> or send Authorization: Bearer <token>\n');
      return;
    }
    if (how === 'query' && req.method === 'GET') {
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        location: `${url.pathname}${url.search}`,
      });
      res.end();
      return;
    }
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      const nonce = randomBytes(18).toString('base64');
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': pageCsp(nonce),
      });
      res.end(dashboardPage(refreshMs, nonce));
      return;
    }
    if (req.method === 'GET' && path === '/favicon.ico') {
      // No icon: an empty answer instead of a 404 in every browser console.
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    }
    if (req.method === 'GET' && path === '/api/status') {
      const snapshot = await collectStatus(backend, statusOptions);
      history.record(snapshot);
      json(res, 200, { ...snapshot, lagHistory: history.toJSON() });
      return;
    }
    if (req.method === 'GET' && path === '/api/dlq') {
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
      const key = url.searchParams.get('key');
      if (key !== null) {
        const [found, total] = await Promise.all([
          deadLettersOfKey(backend, key, limit),
          backend.dlq.count(),
        ]);
        json(res, 200, { total, key, ...found });
        return;
      }
      const after = url.searchParams.get('after');
      const [entries, total] = await Promise.all([
        backend.dlq.list(after === null ? { limit } : { limit, after }),
        backend.dlq.count(),
      ]);
      json(res, 200, { total, entries });
      return;
    }
    // A cookie alone is not enough for an action: the page adds this header, which a cross-site
    // form cannot send.
    const forged = req.method === 'POST' && how === 'cookie' && req.headers['x-sluice-action'] !== '1';
    if (path === '/api/dlq/replay' && req.method === 'POST') {
      if (forged) return json(res, 403, { error: 'missing x-sluice-action header' });
      const key = url.searchParams.get('key');
      const ids = url.searchParams.get('ids');
      if ((key === null) === (ids === null))
        return json(res, 400, { error: 'pass exactly one of ?key= or ?ids=' });
      const toTopic = url.searchParams.get('toTopic') ?? undefined;
      const what = key !== null ? { key } : { ids: (ids as string).split(',').filter((i) => i !== '') };
      json(res, 200, { replayed: await bulkReplay(backend, what, toTopic) });
      return;
    }
    const replay = /^\/api\/dlq\/([^/]+)\/replay$/.exec(path);
    if (replay && req.method === 'POST') {
      if (forged) {
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
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': metricsRegistry.contentType });
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
