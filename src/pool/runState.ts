// The run state of a BatchRun as a tagged union, and its lifecycle string.

/** Why a run takes no more items. */
export type Halt =
  /** The source has no more items. */
  | { readonly kind: 'exhausted' }
  /** The source threw; in-flight items finish, then the caller rethrows `error`. */
  | { readonly kind: 'source_failed'; readonly error: unknown }
  /** Cancelled (signal, consumer closed the stream): in-flight items see their signal abort. */
  | { readonly kind: 'stopped'; readonly reason: unknown };

/**
 * State of a run:
 * - `idle`: built, not started;
 * - `pulling`: lanes take items from the source;
 * - `draining`: no item is taken any more (`halt` says why); in-flight items finish;
 * - `finished`: every lane is done.
 */
export type RunState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'pulling' }
  | { readonly kind: 'draining'; readonly halt: Halt }
  | { readonly kind: 'finished'; readonly halt: Halt };

/** Lifecycle of a run, as reported to callers. */
export type BatchRunState = 'idle' | 'running' | 'stopping' | 'finished';

export const IDLE: RunState = { kind: 'idle' };
export const PULLING: RunState = { kind: 'pulling' };
export const EXHAUSTED: Halt = { kind: 'exhausted' };

/**
 * The state after `halt` happens in `state`. The first halt wins, except that a stop after the
 * source ran out still counts as a stop (in-flight items were cancelled); a source error after a
 * stop is not reported (the consumer stopped first).
 */
export function haltIn(state: RunState, halt: Halt): RunState {
  switch (state.kind) {
    case 'idle':
    case 'pulling':
      return { kind: 'draining', halt };
    case 'draining':
      return state.halt.kind === 'exhausted' && halt.kind === 'stopped' ? { kind: 'draining', halt } : state;
    case 'finished':
      return state;
  }
}

/** The lifecycle string of a state. */
export function lifecycleOf(state: RunState): BatchRunState {
  switch (state.kind) {
    case 'idle':
      return 'idle';
    case 'pulling':
      return 'running';
    case 'draining':
      return state.halt.kind === 'stopped' ? 'stopping' : 'running';
    case 'finished':
      return 'finished';
  }
}
