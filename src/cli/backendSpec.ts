// The CLI's `--backend` spec: parsing memory / sqlite:path / postgres:// / redis:// and opening that backend.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Backend } from '../backend/Backend.ts';
import { configError, SluiceError } from '../core/errors.ts';

/** The SQLite file used by `sqlite` without a path. */
export const DEFAULT_SQLITE_PATH = '.sluice/sluice.db';

/** A parsed backend spec: which backend and where. */
export type BackendSpec =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'redis'; url: string }
  | { kind: 'redis-cluster'; nodes: { host: string; port: number }[] };

/**
 * Parses a backend spec string: `memory`, `sqlite` or `sqlite:<path>` (default
 * {@link DEFAULT_SQLITE_PATH}), `postgres://...` / `postgresql://...`, `redis://...` / `rediss://...`,
 * `redis+cluster://host:port,host:port,...` (startup nodes of a Redis Cluster).
 * Anything else throws `CONFIG_INVALID` naming `backend`.
 *
 * @example
 * ```ts
 * parseBackendSpec('sqlite:/var/lib/sluice.db'); // { kind: 'sqlite', path: '/var/lib/sluice.db' }
 * ```
 */
export function parseBackendSpec(spec: string): BackendSpec {
  const s = spec.trim();
  if (s === 'memory') return { kind: 'memory' };
  if (s === 'sqlite') return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (s.startsWith('sqlite:')) {
    const path = s.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return { kind: 'sqlite', path: path === '' ? DEFAULT_SQLITE_PATH : path };
  }
  if (/^postgres(ql)?:\/\/./.test(s)) return { kind: 'postgres', url: s };
  if (/^rediss?:\/\/./.test(s)) return { kind: 'redis', url: s };
  if (s.startsWith('redis+cluster://')) return { kind: 'redis-cluster', nodes: clusterNodes(s, spec) };
  throw configError(
    'backend',
    'one of "memory", "sqlite:<path>", "postgres://...", "redis://..." or "redis+cluster://host:port,..."',
    spec,
  );
}

/** The `host:port` list of a `redis+cluster://` spec. */
function clusterNodes(s: string, spec: string): { host: string; port: number }[] {
  const list = s.slice('redis+cluster://'.length).replace(/\/$/, '');
  const nodes = list.split(',').map((hp) => {
    const m = /^([^:,/]+):(\d{1,5})$/.exec(hp.trim());
    const port = m === null ? Number.NaN : Number(m[2]);
    if (m === null || port < 1 || port > 65535) {
      throw configError('backend', 'a "redis+cluster://host:port,host:port" list of nodes', spec);
    }
    return { host: m[1]!, port };
  });
  return nodes;
}

/** The backend spec from a CLI option, else env `SLUICE_BACKEND`, else `sqlite` (the default file). */
export function backendSpecFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? env.SLUICE_BACKEND ?? 'sqlite';
}

type Factory = (options: Record<string, unknown>) => Backend | Promise<Backend>;

/**
 * Opens the backend a spec names (see {@link parseBackendSpec}). Drivers are loaded only when
 * used: the subpath module of the backend is imported dynamically. A SQLite file's folder is
 * created when missing. The caller closes the backend.
 *
 * @example
 * ```ts
 * const backend = await openBackend(process.env.SLUICE_BACKEND ?? 'sqlite:.sluice/sluice.db');
 * try { console.log(await backend.dlq.count()); } finally { await backend.close(); }
 * ```
 */
export async function openBackend(spec: string): Promise<Backend> {
  const parsed = parseBackendSpec(spec);
  switch (parsed.kind) {
    case 'memory': {
      const { createMemoryBackend } = await import('../backend/memory/index.ts');
      return createMemoryBackend();
    }
    case 'sqlite': {
      if (parsed.path !== ':memory:') mkdirSync(dirname(resolve(parsed.path)), { recursive: true });
      const { createSqliteBackend } = await import('../backend/sqlite/index.ts');
      return createSqliteBackend({ path: parsed.path });
    }
    case 'postgres':
      return openByFactory('../backend/postgres/index.ts', 'createPostgresBackend', {
        connectionString: parsed.url,
      });
    case 'redis':
      return openByFactory('../backend/redis/index.ts', 'createRedisBackend', { url: parsed.url });
    case 'redis-cluster':
      return openByFactory('../backend/redis/index.ts', 'createRedisBackend', { cluster: parsed.nodes });
  }
}

async function openByFactory(
  modulePath: string,
  factoryName: string,
  options: Record<string, unknown>,
): Promise<Backend> {
  let mod: Record<string, unknown>;
  try {
    // Sources run as .ts (tsx), the published package as .js.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const url = new URL(modulePath.replace(/\.ts$/, ext), import.meta.url).href;
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `The backend module ${modulePath} could not be loaded`, {
      cause: e,
      context: { field: 'backend' },
    });
  }
  const factory = mod[factoryName];
  if (typeof factory !== 'function')
    throw new SluiceError('CONFIG_INVALID', `The backend module does not export ${factoryName}()`, {
      context: { field: 'backend' },
    });
  return (factory as Factory)(options);
}

/**
 * Opens the backend named by `spec`, runs `fn` with it and closes it, whatever `fn` does.
 *
 * @example
 * ```ts
 * const n = await withBackend('sqlite', (b) => b.dlq.count());
 * ```
 */
export async function withBackend<R>(spec: string, fn: (backend: Backend) => Promise<R>): Promise<R> {
  const backend = await openBackend(spec);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}
