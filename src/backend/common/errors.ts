// Backend errors built once so every store raises the same codes and messages: NOT_FOUND, FENCED, CLOSED, BACKEND_UNAVAILABLE.
import { SluiceError } from '../../core/errors.ts';

/**
 * Errors shared by every backend, built in one place so codes, messages and context are
 * identical whichever backend raised them.
 */

/** `NOT_FOUND`: the topic was never created with `ensureTopic`. */
export function topicNotFound(topic: string): SluiceError {
  return new SluiceError('NOT_FOUND', `Topic "${topic}" does not exist (create it with ensureTopic)`, {
    context: { topic },
  });
}

/** `FENCED`: a commit carried a fencing token that is not the current holder's. */
export function fencedError(
  fence: { lease: string; token: number },
  target: { group: string; topic: string; partition: number },
): SluiceError {
  return new SluiceError(
    'FENCED',
    `Commit refused: lease "${fence.lease}" is not held with fencing token ${fence.token}`,
    { context: { lease: fence.lease, token: fence.token, ...target } },
  );
}

/** `CLOSED`: the backend was closed. */
export function closedError(kind: string): SluiceError {
  return new SluiceError('CLOSED', `The ${kind} backend is closed`, { context: { kind } });
}

/**
 * `BACKEND_UNAVAILABLE` (retryable): the store could not be reached or stayed locked. `endpoint`
 * (`host:port`, a file) names the server in the message when given.
 */
export function unavailableError(
  kind: string,
  cause: unknown,
  what = 'operation',
  endpoint?: string,
): SluiceError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  const at = endpoint === undefined ? '' : ` at ${endpoint}`;
  return new SluiceError(
    'BACKEND_UNAVAILABLE',
    `The ${kind} backend${at} is unavailable during ${what}${detail}`,
    {
      retryable: true,
      cause,
      context: { kind, what, ...(endpoint === undefined ? {} : { endpoint }) },
    },
  );
}
