// Saga log events, the fold that rebuilds each saga's state from them, and their deterministic event ids.
import type { LogEvent } from '../../backend/Backend.ts';
import type { SerializedError } from '../../core/errors.ts';

/** An entry of a saga's event log (a topic per saga definition, keyed by saga id). */
export type SagaEvent =
  | { type: 'saga_started'; sagaId: string; input: unknown }
  | { type: 'step_started'; sagaId: string; step: string; index: number }
  | { type: 'step_completed'; sagaId: string; step: string; index: number; result?: unknown }
  | { type: 'step_failed'; sagaId: string; step: string; index: number; error: SerializedError }
  | { type: 'compensated'; sagaId: string; step: string; index: number }
  | { type: 'compensation_failed'; sagaId: string; step: string; index: number; error: SerializedError }
  | { type: 'saga_completed'; sagaId: string }
  | { type: 'saga_compensated'; sagaId: string };

/**
 * Where a saga is:
 * - `running`: steps go forward;
 * - `compensating`: a step failed, completed steps are being undone in reverse order
 *   (also after a `compensation_failed`: recovery tries again);
 * - `completed` / `compensated`: finished.
 */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated';

/** The state of one saga, rebuilt from its events. */
export interface SagaState {
  readonly id: string;
  status: SagaStatus;
  readonly input: unknown;
  /** Results of completed steps by step name. */
  readonly results: Record<string, unknown>;
  /** Indexes of completed steps. */
  readonly completed: Set<number>;
  /** Indexes of compensated steps. */
  readonly compensated: Set<number>;
  /** The step that failed, when compensating or compensated. */
  failure: { step: string; index: number; error: SerializedError } | undefined;
  /** The last compensation error, while a compensation keeps failing. */
  compensationError: SerializedError | undefined;
}

/** Applies one event to a state (creating it on `saga_started`). Returns the state. */
export function applySagaEvent(state: SagaState | undefined, e: SagaEvent): SagaState | undefined {
  if (e.type === 'saga_started') {
    return (
      state ?? {
        id: e.sagaId,
        status: 'running',
        input: e.input,
        results: {},
        completed: new Set(),
        compensated: new Set(),
        failure: undefined,
        compensationError: undefined,
      }
    );
  }
  if (state === undefined) return undefined;
  switch (e.type) {
    case 'step_started':
      break;
    case 'step_completed':
      state.completed.add(e.index);
      state.results[e.step] = e.result;
      break;
    case 'step_failed':
      state.failure = { step: e.step, index: e.index, error: e.error };
      if (state.status === 'running') state.status = 'compensating';
      break;
    case 'compensated':
      state.compensated.add(e.index);
      state.compensationError = undefined;
      break;
    case 'compensation_failed':
      state.compensationError = e.error;
      break;
    case 'saga_completed':
      state.status = 'completed';
      break;
    case 'saga_compensated':
      state.status = 'compensated';
      break;
  }
  return state;
}

/** Folds log events (of any sagas, in offset order per partition) into states by saga id. */
export function foldSagaEvents(
  events: Iterable<LogEvent>,
  into = new Map<string, SagaState>(),
): Map<string, SagaState> {
  for (const ev of events) {
    const e = ev.payload as SagaEvent;
    if (typeof e !== 'object' || e === null || typeof e.sagaId !== 'string') continue;
    const next = applySagaEvent(into.get(e.sagaId), e);
    if (next !== undefined) into.set(e.sagaId, next);
  }
  return into;
}

/** The deterministic event id of a saga event, so re-appending it (retry, recovery) is a no-op. */
export function sagaEventId(e: SagaEvent): string | undefined {
  switch (e.type) {
    case 'saga_started':
    case 'saga_completed':
    case 'saga_compensated':
      return `${e.sagaId}:${e.type}`;
    case 'compensation_failed':
      return undefined;
    default:
      return `${e.sagaId}:${e.type}:${e.index}`;
  }
}
