// Redis error mapping: refused, reset, timed-out and transient replies become BACKEND_UNAVAILABLE.
import { isSluiceError } from '../../core/errors.ts';
import { unavailableError } from '../common/errors.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Server replies that mean "not now" rather than "wrong": retrying later may succeed. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;

/** ioredis messages for commands failed by the connection rather than by the server. */
const CONNECTION_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable",
  'Command timed out',
  'Command aborted due to connection close',
  'Reached the max retries per request limit',
];

/**
 * Whether an error thrown by ioredis means the server could not be reached (or was not ready):
 * refused or reset connections, the retry limit while reconnecting, command timeouts and
 * transient replies such as `LOADING` or `BUSY`.
 */
export function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const m = e.message;
  if (TRANSIENT_REPLY.test(m)) return true;
  return CONNECTION_MESSAGES.some((c) => m.startsWith(c));
}

/**
 * Maps an error of a Redis call: connection failures become `BACKEND_UNAVAILABLE` (retryable,
 * through the shared `unavailableError` so the message matches other backends); Sluice errors
 * and anything else pass through unchanged.
 */
export function mapRedisError(e: unknown, what: string): unknown {
  if (isSluiceError(e)) return e;
  if (isConnectionError(e)) return unavailableError('redis', e, what);
  return e;
}
