// Public exports of resilience: the attempt primitive, backoff, retry, timeout, circuit breaker and health check.
/** @packageDocumentation */
export {
  AttemptPolicy,
  type AttemptPolicyOptions,
  attemptPolicy,
  DEFAULT_RATE_LIMIT_DELAY_MS,
} from './attempt/AttemptPolicy.ts';
export { type AttemptRules, decideAttempt } from './attempt/decide.ts';
export type {
  AttemptAborted,
  AttemptContext,
  AttemptDecision,
  AttemptExecuteOptions,
  AttemptFailed,
  AttemptFn,
  AttemptGate,
  AttemptHooks,
  AttemptOk,
  AttemptOutcome,
  AttemptRateLimited,
  AttemptSettled,
  GateContext,
  GateRelease,
  GiveUpDecision,
  GiveUpDecisionReason,
  GiveUpInfo,
  ParkInfo,
  RateLimitedDecision,
  ResumeFrom,
  RetryDecision,
  RetryInfo,
} from './attempt/types.ts';
export type { Backoff } from './Backoff.ts';
export * from './backoffFactories.ts';
export * from './CircuitBreaker.ts';
export * from './HealthCheck.ts';
export * from './retry.ts';
export * from './timeout.ts';
