// PostgreSQL error mapping: connection and transient errors to BACKEND_UNAVAILABLE, login, missing database and timeouts to their codes.
import { isSluiceError, SluiceError } from '../../core/errors.ts';
import { unavailableError } from '../common/errors.ts';

/** Backend kind used in error messages and context. */
export const KIND = 'postgres';

/** Socket-level error codes (Node `err.code`) that mean the server cannot be reached right now. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATE codes after which the same operation may succeed later: the connection went away
 * (class 08), the server is shutting down, restarting or starting up (57P01..57P03), it has no
 * connection slots left (53300), or the transaction lost a conflict (40001, 40P01, 55P03).
 */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01', '55P03']);

/** Messages of the `pg` driver itself (no code) that mean the connection is gone or never came. */
const DRIVER_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended|connection error/i;

/** SQLSTATE of an error raised by the server, when there is one (5 characters). */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether `e` means "the server could not be reached or dropped the connection" rather than
 * "the statement is wrong": such errors are retried by callers and the connection they came
 * from must not be reused.
 */
export function isConnectionError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    const state = sqlState(e);
    if (state !== undefined)
      return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  }
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && DRIVER_MESSAGES.test(message);
}

/**
 * `host:port` (and database) a pool connects to, for error messages: from the options, else the
 * connection string, else the `PG*` environment variables and the driver's defaults.
 */
export function pgEndpoint(config: {
  host?: string | undefined;
  port?: number | undefined;
  database?: string | undefined;
  connectionString?: string | undefined;
}): string {
  let host = config.host;
  let port = config.port === undefined ? undefined : String(config.port);
  let database = config.database;
  if (config.connectionString !== undefined) {
    try {
      const url = new URL(config.connectionString);
      host ??= decodeURIComponent(url.hostname) || url.searchParams.get('host') || undefined;
      port ??= url.port || undefined;
      database ??= decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
    } catch {
      // not a URL (a key=value string): fall back to the environment
    }
  }
  host ??= process.env.PGHOST ?? 'localhost';
  port ??= process.env.PGPORT ?? '5432';
  database ??= process.env.PGDATABASE;
  return `${host}:${port}${database === undefined ? '' : `/${database}`}`;
}

/**
 * The one place where errors of the `pg` driver and of the server become Sluice errors, so every
 * part of the PostgreSQL backend reports them the same way (`endpoint`, `host:port/database`,
 * is named in the message when given):
 * - unreachable server, dropped or timed-out connection, shutdown/restart in progress, no free
 *   connection slot, serialization failure or deadlock → `BACKEND_UNAVAILABLE` (retryable);
 * - the server refused the login (SQLSTATE class 28: unknown role, wrong password, no
 *   `pg_hba.conf` entry) → `AUTH_FAILED`;
 * - the database does not exist (3D000) → `CONFIG_INVALID`;
 * - `statement_timeout` (57014) → `TIMEOUT` (retryable);
 * - a NUL character in a text value (22021), which PostgreSQL cannot store → `CONFIG_INVALID`;
 * - Sluice errors pass through unchanged; anything else (a bug) is returned as is.
 */
export function mapPgError(e: unknown, what: string, endpoint?: string): unknown {
  if (isSluiceError(e)) return e;
  const state = sqlState(e);
  if (isConnectionError(e) || (state !== undefined && TRANSIENT_SQLSTATES.has(state))) {
    return unavailableError(KIND, e, what, endpoint);
  }
  const at = endpoint === undefined ? '' : ` at ${endpoint}`;
  const detail = (e as { message?: unknown }).message;
  if (state?.startsWith('28')) {
    return new SluiceError('AUTH_FAILED', `The ${KIND} server${at} refused the login: ${String(detail)}`, {
      cause: e,
      context: { kind: KIND, what, ...(endpoint === undefined ? {} : { endpoint }) },
    });
  }
  if (state === '3D000') {
    return new SluiceError(
      'CONFIG_INVALID',
      `Expected the ${KIND} database${at} to exist: ${String(detail)}`,
      {
        cause: e,
        context: { kind: KIND, what, ...(endpoint === undefined ? {} : { endpoint }) },
      },
    );
  }
  if (state === '57014') {
    return new SluiceError('TIMEOUT', `The ${KIND} backend cancelled ${what}: statement timeout`, {
      retryable: true,
      cause: e,
      context: { kind: KIND, what },
    });
  }
  if (state === '22021' || state === '22P05') {
    return new SluiceError(
      'CONFIG_INVALID',
      `Expected the names, keys and ids of ${what} to be text without NUL (\\u0000) characters, which PostgreSQL cannot store`,
      { cause: e, context: { kind: KIND, what } },
    );
  }
  return e;
}
