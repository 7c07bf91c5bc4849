// Exit codes of the long-running commands and the SIGTERM/SIGINT drain with a bounded timeout.

/**
 * Exit codes of `sluice runner` (and the other commands where they apply):
 * `0` stopped cleanly (drained), `1` error, `2` command-line usage error, `3` drain timeout,
 * `130`/`143` stopped at once by a second SIGINT/SIGTERM (128 + the signal number).
 */
export const EXIT_CODES = {
  ok: 0,
  error: 1,
  usage: 2,
  drainTimeout: 3,
  interrupted: 130,
  terminated: 143,
} as const;

/** Time the runner gets after the drain timeout to release its leases and leave, before exit 3. */
export const RELEASE_GRACE_MS = 5000;

/** The exit code of a stop forced by a second signal. */
function forcedCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? EXIT_CODES.interrupted : EXIT_CODES.terminated;
}

/** What {@link drainOnSignal} drives. */
export interface DrainOptions {
  /** Graceful stop: stop taking new events, finish in-flight work, commit, release. */
  stop: () => Promise<void>;
  /** In-flight work allowed this long; later it is abandoned (re-run by the next owner). */
  timeoutMs: number;
  /** One line for the operator. */
  log: (line: string) => void;
  /** Resolves the wait early without a signal (the runner failed, for example). */
  until?: Promise<unknown>;
}

/** Outcome of a drain: the exit code and why. */
export type DrainOutcome =
  | { kind: 'drained'; code: 0; signal: NodeJS.Signals | undefined; ms: number }
  | { kind: 'timeout'; code: 3; signal: NodeJS.Signals; ms: number }
  | { kind: 'forced'; code: number; signal: NodeJS.Signals; ms: number }
  | { kind: 'failed'; code: 1; signal: NodeJS.Signals | undefined; ms: number; error: unknown };

/**
 * Waits for SIGTERM or SIGINT, then drains: calls `stop()` and waits for it up to
 * `timeoutMs + RELEASE_GRACE_MS`. A second signal ends the wait at once (`forced`, 130/143); a
 * stop that took longer than `timeoutMs` (work was abandoned) or did not end in time is a
 * `timeout` (3); a `stop()` that rejects is `failed` (1). Signal handlers are removed before it resolves.
 */
export async function drainOnSignal(options: DrainOptions): Promise<DrainOutcome> {
  const { log, timeoutMs } = options;
  let onSignal: ((s: NodeJS.Signals) => void) | undefined;
  const listen = (fn: (s: NodeJS.Signals) => void) => {
    onSignal = fn;
    process.on('SIGTERM', fn);
    process.on('SIGINT', fn);
  };
  const unlisten = () => {
    if (onSignal === undefined) return;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    onSignal = undefined;
  };
  const first = await new Promise<NodeJS.Signals | undefined>((resolve) => {
    listen((s) => resolve(s));
    void options.until?.then(
      () => resolve(undefined),
      () => resolve(undefined),
    );
  });
  unlisten();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (first !== undefined) {
    log(
      `${first}: draining (no new events; in-flight batches finish and commit, partitions are released; up to ${timeoutMs} ms). Send it again to stop at once.`,
    );
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await new Promise<DrainOutcome>((resolve) => {
      listen((s) => resolve({ kind: 'forced', code: forcedCode(s), signal: s, ms: elapsed() }));
      timer = setTimeout(
        () =>
          resolve({
            kind: 'timeout',
            code: EXIT_CODES.drainTimeout,
            signal: first ?? 'SIGTERM',
            ms: elapsed(),
          }),
        timeoutMs + RELEASE_GRACE_MS,
      );
      options.stop().then(
        () => {
          const ms = elapsed();
          if (first !== undefined && ms >= timeoutMs)
            resolve({ kind: 'timeout', code: EXIT_CODES.drainTimeout, signal: first, ms });
          else resolve({ kind: 'drained', code: EXIT_CODES.ok, signal: first, ms });
        },
        (error: unknown) =>
          resolve({ kind: 'failed', code: EXIT_CODES.error, signal: first, ms: elapsed(), error }),
      );
    });
    return outcome;
  } finally {
    clearTimeout(timer);
    unlisten();
  }
}

/** One line describing a drain's outcome. */
export function describeDrain(o: DrainOutcome): string {
  switch (o.kind) {
    case 'drained':
      return `stopped: drained in ${o.ms} ms, partitions released (exit 0)`;
    case 'timeout':
      return `drain timeout: in-flight work did not finish in time and is left to the next owner (exit ${o.code})`;
    case 'failed':
      return `stop failed after ${o.ms} ms: ${o.error instanceof Error ? o.error.message : String(o.error)} (exit 1)`;
    case 'forced':
      return `${o.signal} again: stopped at once after ${o.ms} ms; unreleased leases expire after their TTL (exit ${o.code})`;
  }
}
