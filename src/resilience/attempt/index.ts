// The attempt primitive: one executor (and one pure decision) for running an item.
export {
  AttemptPolicy,
  type AttemptPolicyOptions,
  attemptPolicy,
  DEFAULT_RATE_LIMIT_DELAY_MS,
} from './AttemptPolicy.ts';
export { type AttemptRules, decideAttempt, defaultRetryOn } from './decide.ts';
export { isThenable, type RunOnceSettings, runOnce, type Settled, timeoutError } from './runOnce.ts';
export type * from './types.ts';
