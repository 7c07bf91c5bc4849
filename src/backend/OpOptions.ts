// Options every backend operation takes (its AbortSignal).

/** Options for one backend operation. */
export interface OpOptions {
  /** Aborts the operation (rejects with `ABORTED`). */
  signal?: AbortSignal;
}
