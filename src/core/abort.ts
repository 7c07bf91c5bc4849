// anySignal: one AbortSignal that aborts when any of several does, with a dispose that detaches it.
/**
 * A signal that aborts when any of `signals` aborts (with that signal's reason).
 * Returns the signal and a `dispose` that detaches listeners.
 */
export function anySignal(signals: readonly (AbortSignal | undefined)[]): {
  signal: AbortSignal;
  dispose: () => void;
} {
  const ctrl = new AbortController();
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const already = present.find((s) => s.aborted);
  if (already) {
    ctrl.abort(already.reason);
    return { signal: ctrl.signal, dispose: () => {} };
  }
  const handlers = present.map((s) => {
    const h = () => ctrl.abort(s.reason);
    s.addEventListener('abort', h, { once: true });
    return [s, h] as const;
  });
  return {
    signal: ctrl.signal,
    dispose: () => {
      for (const [s, h] of handlers) s.removeEventListener('abort', h);
    },
  };
}
